import { dropStaleSlotCaches } from '../../domain/availability/cache';
import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import { getAgendaQueue } from '../../platform/queues/queues';
import { domainEventJobId, publishEvents } from '../../domain/events/outbox';
import { sweepStrandedSends, type SweepResult } from './sweep';

/** Job states in which the event's job may still do its work: the relay leaves it alone. */
const LIVE_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

export interface RelayOptions {
  /** Only unpublished rows at least this old: younger ones are still being published by their request. */
  olderThanMs?: number;
  /** Unpublished rows per pass. */
  limit?: number;
  /** Re-drive grace (see `redriveOutbox`); OUTBOX_REDRIVE_AFTER_MS by default. */
  redriveAfterMs?: number;
  /** Published-but-unprocessed rows looked at per pass. */
  redriveLimit?: number;
  /** Stranded-send sweep grace (see `sweepStrandedSends`); OUTBOX_REDRIVE_AFTER_MS by default. */
  sweepAfterMs?: number;
  /** Pending notices, and pending deliveries, looked at per pass. */
  sweepLimit?: number;
}

export interface RelayPass {
  /** Unpublished rows found, and how many of them were published. */
  found: number;
  published: number;
  /** Events whose job had failed or vanished, queued again. */
  redriven: number;
  /** Pending e-mail notices and webhook deliveries looked at, and those whose job died queued again. */
  sends: SweepResult;
}

/**
 * One relay pass: drops the slot lists an outage left stale (lib/domain/availability/cache.ts), publishes
 * events a failed enqueue left unpublished, re-drives events published but never processed, and
 * queues again the notices and deliveries whose send job died (lib/jobs/outbox/sweep.ts). Safe to run
 * from several workers at once (the job id is the event or record id, and every mark is
 * conditional on the row's state as read).
 */
export async function relayOutbox(opts: RelayOptions = {}): Promise<RelayPass> {
  const { olderThanMs = 5_000, limit = 200 } = opts;
  const db = await getDb();
  const rows = await db.outboxEvent.findMany({
    where: { publishedAt: null, processedAt: null, createdAt: { lte: new Date(Date.now() - olderThanMs) } },
    orderBy: { createdAt: 'asc' },
    take: limit,
    select: { id: true },
  });
  await dropStaleSlotCaches();
  const published = await publishEvents(rows.map((r) => r.id));
  if (rows.length > 0) logger.info('outbox.relayed', { found: rows.length, published });
  const { redriven } = await redriveOutbox({ afterMs: opts.redriveAfterMs, limit: opts.redriveLimit });
  const sends = await sweepStrandedSends({ afterMs: opts.sweepAfterMs, limit: opts.sweepLimit });
  return { found: rows.length, published, redriven, sends };
}

export interface RedriveOptions {
  /** Grace after the (last) publish or sighting of a live job; OUTBOX_REDRIVE_AFTER_MS by default. */
  afterMs?: number;
  limit?: number;
}

/**
 * Re-drives events published at least `afterMs` ago and still unprocessed: a `domain.event` job that
 * failed all its attempts (a database outage longer than its backoff), completed without marking
 * the event, or vanished from Redis would otherwise lose the event for good, and its kept job id
 * would swallow any plain re-add. Such a job is removed and the event queued again under the same
 * id; a job still waiting, delayed or active is left alone, so a live job is never duplicated.
 * A re-drive moves `published_at` to now: the event gets a whole grace period again, and goes to the
 * back of the line. So does finding its job live ("last seen queued"): a backlog of slow jobs
 * larger than `limit` would otherwise fill every pass and hide dead events behind it. Processing
 * is idempotent, so a rare second run (a race with a job just finishing) adds nothing. A queue
 * failure ends the pass (logged) and the next pass goes on.
 */
export async function redriveOutbox({ afterMs = getConfig().outboxRedriveAfterMs, limit = 100 }: RedriveOptions = {}): Promise<{
  checked: number;
  redriven: number;
}> {
  const db = await getDb();
  const rows = await db.outboxEvent.findMany({
    where: { processedAt: null, publishedAt: { not: null, lte: new Date(Date.now() - afterMs) } },
    orderBy: { publishedAt: 'asc' },
    take: limit,
    select: { id: true, publishedAt: true },
  });
  let redriven = 0;
  try {
    if (rows.length > 0) {
      const queue = await getAgendaQueue();
      for (const row of rows) {
        const jobId = domainEventJobId(row.id);
        const job = await queue.getJob(jobId);
        const state = job ? await job.getState() : 'missing';
        if (LIVE_STATES.has(state)) {
          // Last seen queued: out of the window for a grace period (unless processed or re-driven meanwhile).
          await db.outboxEvent.updateMany({
            where: { id: row.id, processedAt: null, publishedAt: row.publishedAt },
            data: { publishedAt: new Date() },
          });
          continue;
        }
        const why = state === 'failed' ? `job failed: ${job?.failedReason ?? ''}` : `job ${state}`;
        // Claim the row: nobody processed or re-drove it since it was read.
        const { count } = await db.outboxEvent.updateMany({
          where: { id: row.id, processedAt: null, publishedAt: row.publishedAt },
          data: { publishedAt: new Date(), attempts: { increment: 1 }, lastError: `redriven, ${why}`.slice(0, 500) },
        });
        if (count === 0) continue;
        if (job) await job.remove();
        await queue.add('domain.event', { eventId: row.id }, { jobId });
        redriven += 1;
        logger.warn('outbox.redriven', { eventId: row.id, state, publishedAt: row.publishedAt?.toISOString() });
      }
    }
  } catch (err) {
    logger.warn('outbox.redrive_failed', { checked: rows.length, redriven, error: (err as Error).message });
  }
  return { checked: rows.length, redriven };
}
