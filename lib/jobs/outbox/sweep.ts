import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { notificationJobId } from '../../domain/notifications/send-job';
import { logger } from '../../platform/observability/logger';
import { getNotificationQueue, getWebhookQueue } from '../../platform/queues/queues';
import { requeued, requeuePending } from '../../platform/queues/requeue';
import { deliveryJobOptions } from '../../domain/webhooks/retry-policy';

export interface SweepOptions {
  /** How long a pending send is left to its job before the sweep looks; OUTBOX_REDRIVE_AFTER_MS by default. */
  afterMs?: number;
  /** Rows looked at per pass, per kind. */
  limit?: number;
}

export interface SweepCount {
  /** Pending rows looked at (each then leaves the window for `afterMs`). */
  checked: number;
  /** Of those, rows whose job had failed, completed or vanished: queued again. */
  requeued: number;
}

export interface SweepResult {
  notices: SweepCount;
  deliveries: SweepCount;
}

/**
 * Queues again e-mail notices and webhook deliveries still `pending` whose send job died: failed
 * every attempt before recording an outcome (the database down), or vanished from Redis. Re-running
 * the event would do it, but a processed event never runs again, a reminder has no event, and a
 * manual retry may fail to enqueue after marking its delivery pending: without this sweep such a
 * row stays pending forever. A live job is left alone (`requeuePending`), so nothing is duplicated;
 * a send that slips through twice (its job finishing as the sweep looks) finds its row done and
 * sends nothing.
 *
 * A row is due `afterMs` after its creation, a delivery's scheduled retry (`next_attempt_at`: a
 * delayed retry is not stranded) or its last sweep, whichever is latest. Every row looked at is
 * stamped `swept_at` in the same statement that picks it, so rows whose jobs are merely slow leave
 * the window and cannot hide stranded rows behind them pass after pass, and two relays never pick
 * the same row (SKIP LOCKED). A Redis failure ends that kind's pass (logged): the rows it had
 * picked and not yet looked at wait one more grace period.
 */
export async function sweepStrandedSends(opts: SweepOptions = {}): Promise<SweepResult> {
  const { afterMs = getConfig().outboxRedriveAfterMs, limit = 100 } = opts;
  return { notices: await sweepNotices(afterMs, limit), deliveries: await sweepDeliveries(afterMs, limit) };
}

async function sweepNotices(afterMs: number, limit: number): Promise<SweepCount> {
  const requeue = (queue: Awaited<ReturnType<typeof getNotificationQueue>>, id: string) =>
    requeuePending(queue, 'notification.send', { notificationId: id }, { jobId: notificationJobId(id) });
  return sweep('notices', getNotificationQueue, requeue, async () => {
    const db = await getDb();
    return db.$queryRaw<{ id: string }[]>`
      UPDATE "notifications" SET "swept_at" = now()
       WHERE "id" IN (SELECT "id" FROM "notifications"
                       WHERE "status" = 'pending' AND "channel" = 'email'
                         AND GREATEST("created_at", "swept_at") <= now() - ${afterMs}::float8 * interval '1 millisecond'
                       ORDER BY GREATEST("created_at", "swept_at")
                       LIMIT ${limit}::int FOR UPDATE SKIP LOCKED)
      RETURNING "id"::text`;
  });
}

async function sweepDeliveries(afterMs: number, limit: number): Promise<SweepCount> {
  const requeue = (queue: Awaited<ReturnType<typeof getWebhookQueue>>, id: string) =>
    requeuePending(queue, 'webhook.deliver', { deliveryId: id }, { ...deliveryJobOptions(id), jobId: id });
  return sweep('deliveries', getWebhookQueue, requeue, async () => {
    const db = await getDb();
    return db.$queryRaw<{ id: string }[]>`
      UPDATE "webhook_deliveries" SET "swept_at" = now()
       WHERE "id" IN (SELECT "id" FROM "webhook_deliveries"
                       WHERE "status" = 'pending'
                         AND GREATEST(COALESCE("next_attempt_at", "created_at"), "swept_at")
                             <= now() - ${afterMs}::float8 * interval '1 millisecond'
                       ORDER BY GREATEST(COALESCE("next_attempt_at", "created_at"), "swept_at")
                       LIMIT ${limit}::int FOR UPDATE SKIP LOCKED)
      RETURNING "id"::text`;
  });
}

/**
 * Picks the due rows, then requeues each one's job if it died. The queue is fetched only when a row
 * is due, so with Redis down an idle pass costs nothing.
 */
async function sweep<Q>(
  kind: keyof SweepResult,
  getQueue: () => Promise<Q>,
  requeue: (queue: Q, id: string) => Promise<string>,
  pick: () => Promise<{ id: string }[]>,
): Promise<SweepCount> {
  const count: SweepCount = { checked: 0, requeued: 0 };
  try {
    const rows = await pick();
    count.checked = rows.length;
    if (rows.length === 0) return count;
    const queue = await getQueue();
    for (const { id } of rows) {
      const state = await requeue(queue, id);
      if (!requeued(state)) continue;
      count.requeued += 1;
      logger.warn('sends.requeued', { kind, id, state });
    }
  } catch (err) {
    logger.warn('sends.sweep_failed', { kind, ...count, error: (err as Error).message });
  }
  return count;
}
