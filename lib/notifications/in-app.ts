import { inTransaction } from '../appointments/transaction';
import { getDb } from '../db/client';
import { logger } from '../observability/logger';
import type { Tx } from '../outbox/outbox';
import { forgetConnections, subscribersOf, type PushTarget } from '../realtime/connections';
import { pushToConnection } from '../realtime/push';

/** An in-app notice older than this is stale news: marked `skipped` (`expired`) instead of pushed. */
export const IN_APP_MAX_AGE_MS = 24 * 3_600_000;
/** Most notices a new subscriber is sent at once (oldest first); the rest wait for the next event or subscribe. */
export const IN_APP_BACKLOG_LIMIT = 50;
/** Most notices one appointment event retries. */
const EVENT_LIMIT = 100;
/** No new notice is claimed for a subscriber after this long, well inside the function's 28 s timeout. */
const BACKLOG_BUDGET_MS = 10_000;
/**
 * Bound on each push made while its notice is row-locked: well inside the socket profile's 5 s
 * idle-in-transaction and statement timeouts, so a slow Management API fails the push, not the session.
 */
const PUSH_TIMEOUT_MS = 2_000;

/** What a socket receives: ids only (no patient data); clients deduplicate by `notificationId`. */
export interface InAppMessage {
  type: 'notification';
  notificationId: string;
  kind: string;
  appointmentId: string | null;
  controlId: string | null;
}

export interface InAppOutcome {
  sent: number;
  failed: number;
  /** Marked `skipped` with reason `expired`, across the clinic. */
  expired: number;
}

interface Claimed {
  id: string;
  kind: string;
  appointmentId: string | null;
  controlId: string | null;
  /** The appointment's professional, else the session package's, else null. */
  professionalId: string | null;
}

interface Selection {
  clinicId: string;
  /** Only this appointment's notices (an event of that appointment). */
  appointmentId?: string;
  /** Only notices about this professional (a subscriber scoped to one agenda). */
  professionalId?: string;
}

/**
 * Locks the oldest deliverable notice of a selection (`pending`, or `failed` by an earlier push;
 * younger than the cutoff; not tried yet in this pass). SKIP LOCKED: a notice another delivery holds
 * is left to it, so two concurrent deliveries never push the same notice, and neither waits.
 */
async function claimNext(tx: Tx, sel: Selection, cutoff: Date, tried: string[]): Promise<Claimed | undefined> {
  const appointmentId = sel.appointmentId ?? null;
  const professionalId = sel.professionalId ?? null;
  const rows = await tx.$queryRaw<Claimed[]>`
    SELECT n.id::text AS id, n.kind, n.appointment_id::text AS "appointmentId", n.control_id::text AS "controlId",
           COALESCE(a.professional_id, c.professional_id)::text AS "professionalId"
    FROM notifications n
    LEFT JOIN appointments a ON a.id = n.appointment_id
    LEFT JOIN appointment_controls c ON c.id = n.control_id
    WHERE n.clinic_id = ${sel.clinicId}::uuid AND n.channel = 'in_app' AND n.status IN ('pending', 'failed')
      AND n.created_at >= ${cutoff}
      AND (${appointmentId}::uuid IS NULL OR n.appointment_id = ${appointmentId}::uuid)
      AND (${professionalId}::uuid IS NULL OR COALESCE(a.professional_id, c.professional_id) = ${professionalId}::uuid)
      AND n.id <> ALL(${tried}::uuid[])
    ORDER BY n.created_at, n.id
    LIMIT 1
    FOR UPDATE OF n SKIP LOCKED`;
  return rows[0];
}

const message = (n: Claimed): InAppMessage => ({
  type: 'notification',
  notificationId: n.id,
  kind: n.kind,
  appointmentId: n.appointmentId,
  controlId: n.controlId,
});

/** Marks the clinic's undelivered in-app notices past the maximum age `skipped` (`expired`). */
async function expireStale(clinicId: string, cutoff: Date): Promise<number> {
  const db = await getDb();
  const { count } = await db.notification.updateMany({
    where: { clinicId, channel: 'in_app', status: { in: ['pending', 'failed'] }, createdAt: { lt: cutoff } },
    data: { status: 'skipped', skipReason: 'expired' },
  });
  return count;
}

/**
 * The delivery loop shared by both triggers: one short transaction per notice, holding its row lock
 * only across its own pushes, so the status written (`sent` once a push succeeded; `failed` with
 * attempts + 1 and the error when every push failed) is never raced by another delivery. A commit
 * lost after a successful push leaves the notice deliverable: at least once, hence `notificationId`.
 * Notices nobody could receive stay as they are.
 */
async function deliver(
  sel: Selection,
  targetsFor: (n: Claimed, tx: Tx) => Promise<PushTarget[]>,
  opts: { limit: number; stopOnFailure: boolean; budgetMs?: number },
  now: Date,
): Promise<InAppOutcome> {
  const cutoff = new Date(now.getTime() - IN_APP_MAX_AGE_MS);
  const outcome: InAppOutcome = { sent: 0, failed: 0, expired: await expireStale(sel.clinicId, cutoff) };
  const tried: string[] = [];
  const deadline = opts.budgetMs === undefined ? Infinity : Date.now() + opts.budgetMs;
  while (tried.length < opts.limit && Date.now() < deadline) {
    const round = await inTransaction(async (tx) => {
      const n = await claimNext(tx, sel, cutoff, tried);
      if (!n) return undefined;
      const targets = await targetsFor(n, tx);
      const gone: string[] = [];
      let delivered = 0;
      let lastError: string | null = null;
      for (const t of targets) {
        try {
          if (await pushToConnection(t.endpoint, t.connectionId, message(n), { timeoutMs: PUSH_TIMEOUT_MS })) delivered++;
          else {
            gone.push(t.connectionId);
            lastError = 'connection gone (410)';
          }
        } catch (err) {
          lastError = (err as Error).message.slice(0, 500);
        }
      }
      if (delivered > 0) {
        await tx.notification.update({ where: { id: n.id }, data: { status: 'sent', attempts: { increment: 1 }, sentAt: new Date(), lastError: null } });
      } else if (targets.length > 0) {
        await tx.notification.update({ where: { id: n.id }, data: { status: 'failed', attempts: { increment: 1 }, lastError } });
      }
      return { id: n.id, delivered, gone, targets: targets.length };
    });
    if (!round) break;
    tried.push(round.id);
    if (round.delivered > 0) outcome.sent++;
    else if (round.targets > 0) outcome.failed++;
    await forgetConnections(round.gone);
    // One subscriber that could not take a notice (gone, Management API failing) will not take the next.
    if (opts.stopOnFailure && round.delivered === 0 && round.targets > 0) break;
  }
  return outcome;
}

/**
 * An appointment's event: retries its deliverable in-app notices to every socket subscribed to the
 * clinic or to the appointment's professional. A clinic with no subscribed socket costs one query.
 */
export async function deliverAppointmentNotices(clinicId: string, appointmentId: string, now = new Date()): Promise<InAppOutcome> {
  const db = await getDb();
  const listening = await db.socketConnection.count({ where: { clinicId, scope: { not: null }, apiKey: { revokedAt: null } } });
  if (listening === 0) return { sent: 0, failed: 0, expired: 0 };
  return deliver(
    { clinicId, appointmentId },
    (n, tx) => subscribersOf(tx, clinicId, n.professionalId),
    { limit: EVENT_LIMIT, stopOnFailure: false },
    now,
  );
}

/**
 * A socket just subscribed: sends it the clinic's notices nobody received yet that match its scope
 * (the whole clinic, or one professional's), oldest first, at most {@link IN_APP_BACKLOG_LIMIT},
 * none older than {@link IN_APP_MAX_AGE_MS} (those are marked skipped). Without this a notice made
 * while nobody listened would wait for the next event of its appointment, which may never come.
 */
export async function deliverBacklog(
  connection: PushTarget & { clinicId: string; scope: string },
  now = new Date(),
): Promise<InAppOutcome> {
  const outcome = await deliver(
    { clinicId: connection.clinicId, ...(connection.scope !== 'clinic' && { professionalId: connection.scope }) },
    async () => [connection],
    { limit: IN_APP_BACKLOG_LIMIT, stopOnFailure: true, budgetMs: BACKLOG_BUDGET_MS },
    now,
  );
  if (outcome.sent + outcome.failed + outcome.expired > 0) {
    logger.info('notifications.in_app_backlog', { connectionId: connection.connectionId, clinicId: connection.clinicId, ...outcome });
  }
  return outcome;
}
