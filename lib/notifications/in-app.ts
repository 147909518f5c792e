import { inTransaction } from '../db/transaction';
import { getConfig } from '../config';
import { getDb } from '../db/client';
import { logger } from '../observability/logger';
import type { Tx } from '../outbox/outbox';
import { forgetConnections, subscribersOf, type PushTarget } from '../realtime/connections';
import { pushToMany } from '../realtime/push';
import { staleReason } from './stale';

/** An in-app notice older than this is stale news: marked `skipped` (`expired`) instead of pushed. */
export const IN_APP_MAX_AGE_MS = 24 * 3_600_000;
/** Most notices a new subscriber is sent at once (oldest first); the rest wait for the next event or subscribe. */
export const IN_APP_BACKLOG_LIMIT = 50;
/** Most notices one appointment event retries. */
const EVENT_LIMIT = 100;
/** No new notice is claimed for a subscriber after this long, well inside the function's 28 s timeout. */
const BACKLOG_BUDGET_MS = 10_000;
/**
 * Most sockets one notice is pushed to (the oldest subscribed first): the AWS SDK's default socket
 * pool per Management API client, so every push of a notice really is in flight at once and the
 * fan-out stays one round trip. Sockets past the cap (a clinic with more than 50 subscribed) do not
 * get that notice live; the notice is `sent` once any of the first 50 took it.
 */
export const IN_APP_MAX_TARGETS = 50;
/**
 * One deadline for all pushes of a notice, made while the notice is row-locked: 2 s, well inside the
 * socket profile's 5 s idle-in-transaction and statement timeouts (the worker's are 60 s), so a slow
 * Management API fails the pushes, not the session.
 */
const PUSH_DEADLINE_MS = 2_000;

/** {@link PUSH_DEADLINE_MS}, or less when the database timeouts are configured lower (at most 40% of them). */
function pushDeadlineMs(): number {
  const { statementTimeoutMs, idleInTransactionTimeoutMs } = getConfig().db;
  const limits = [statementTimeoutMs, idleInTransactionTimeoutMs].filter((ms) => ms > 0).map((ms) => Math.floor(ms * 0.4));
  return Math.min(PUSH_DEADLINE_MS, ...limits);
}

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
  /** Marked `skipped` instead of pushed: no longer true (appointment cancelled, finished or moved; see ./stale). */
  stale: number;
}

interface Claimed {
  id: string;
  kind: string;
  appointmentId: string | null;
  controlId: string | null;
  /** The appointment's professional, else the session package's, else null. */
  professionalId: string | null;
  /** What the notice recorded, and its subject now (null when gone), for the stale rule. */
  startsAt: Date | null;
  appointmentStatus: string | null;
  appointmentStartsAt: Date | null;
  controlStatus: string | null;
}

interface Selection {
  clinicId: string;
  /** Only this appointment's notices (an event of that appointment, a reminder firing). */
  appointmentId?: string;
  /** Only this session package's notices (a control event, e.g. a renewal request). */
  controlId?: string;
  /** Only notices about this professional (a subscriber scoped to one agenda). */
  professionalId?: string;
}

/**
 * Locks the oldest deliverable notice of a selection (`pending`, or `failed` by an earlier push;
 * younger than the cutoff; not tried yet in this pass), with its appointment's or control's state as
 * of the lock. SKIP LOCKED: a notice another delivery holds is left to it, so two concurrent
 * deliveries never push the same notice, and neither waits.
 */
async function claimNext(tx: Tx, sel: Selection, cutoff: Date, tried: string[]): Promise<Claimed | undefined> {
  const appointmentId = sel.appointmentId ?? null;
  const controlId = sel.controlId ?? null;
  const professionalId = sel.professionalId ?? null;
  const rows = await tx.$queryRaw<Claimed[]>`
    SELECT n.id::text AS id, n.kind, n.appointment_id::text AS "appointmentId", n.control_id::text AS "controlId",
           COALESCE(a.professional_id, c.professional_id)::text AS "professionalId",
           n.starts_at AS "startsAt", a.status AS "appointmentStatus", a.starts_at AS "appointmentStartsAt",
           c.status AS "controlStatus"
    FROM notifications n
    LEFT JOIN appointments a ON a.id = n.appointment_id
    LEFT JOIN appointment_controls c ON c.id = n.control_id
    WHERE n.clinic_id = ${sel.clinicId}::uuid AND n.channel = 'in_app' AND n.status IN ('pending', 'failed')
      AND n.created_at >= ${cutoff}
      AND (${appointmentId}::uuid IS NULL OR n.appointment_id = ${appointmentId}::uuid)
      AND (${controlId}::uuid IS NULL OR n.control_id = ${controlId}::uuid)
      AND (${professionalId}::uuid IS NULL OR COALESCE(a.professional_id, c.professional_id) = ${professionalId}::uuid)
      AND n.id <> ALL(${tried}::uuid[])
    ORDER BY n.created_at, n.id
    LIMIT 1
    FOR UPDATE OF n SKIP LOCKED`;
  return rows[0];
}

/** The e-mail channel's rule (./stale), applied to what the claim read under the lock. */
const staleness = (n: Claimed) =>
  staleReason({
    kind: n.kind,
    startsAt: n.startsAt,
    appointment: n.appointmentStatus && n.appointmentStartsAt ? { status: n.appointmentStatus, startsAt: n.appointmentStartsAt } : null,
    control: n.controlStatus ? { status: n.controlStatus } : null,
  });

const message = (n: Claimed): InAppMessage => ({
  type: 'notification',
  notificationId: n.id,
  kind: n.kind,
  appointmentId: n.appointmentId,
  controlId: n.controlId,
});

/**
 * Marks undelivered in-app notices past the maximum age `skipped` (`expired`), every clinic's, in
 * the worker's socket sweep: deliveries never pick them anyway (the claim's cutoff), so this only
 * records their end, and stays off the subscribe and event paths.
 */
export async function expireInAppNotices(now = new Date()): Promise<number> {
  const db = await getDb();
  const { count } = await db.notification.updateMany({
    where: { channel: 'in_app', status: { in: ['pending', 'failed'] }, createdAt: { lt: new Date(now.getTime() - IN_APP_MAX_AGE_MS) } },
    data: { status: 'skipped', skipReason: 'expired' },
  });
  return count;
}

/**
 * The delivery loop shared by every trigger: one short transaction per notice, holding its row lock
 * only across its own pushes (all in parallel, under one deadline), so the status written (`sent`
 * once a push succeeded; `failed` with attempts + 1 and the error when every push failed) is never
 * raced by another delivery. A notice no longer true is marked `skipped` with the reason under the
 * same lock, never pushed. A commit lost after a successful push leaves the notice deliverable: at
 * least once, hence `notificationId`. Notices nobody could receive stay as they are. `limit` counts
 * notices pushed or left for lack of a target; skipped ones leave the set, so they need no bound.
 */
async function deliver(
  sel: Selection,
  targetsFor: (n: Claimed, tx: Tx) => Promise<PushTarget[]>,
  opts: { limit: number; stopOnFailure: boolean; budgetMs?: number },
  now: Date,
): Promise<InAppOutcome> {
  const cutoff = new Date(now.getTime() - IN_APP_MAX_AGE_MS);
  const outcome: InAppOutcome = { sent: 0, failed: 0, stale: 0 };
  const tried: string[] = [];
  let handled = 0;
  const deadline = opts.budgetMs === undefined ? Infinity : Date.now() + opts.budgetMs;
  while (handled < opts.limit && Date.now() < deadline) {
    const round = await inTransaction(async (tx) => {
      const n = await claimNext(tx, sel, cutoff, tried);
      if (!n) return undefined;
      const stale = staleness(n);
      if (stale) {
        await tx.notification.update({ where: { id: n.id }, data: { status: 'skipped', skipReason: stale } });
        return { id: n.id, stale, delivered: 0, gone: [], targets: 0 };
      }
      const targets = await targetsFor(n, tx);
      const { delivered, gone, lastError } = await pushToMany(targets, message(n), pushDeadlineMs());
      if (delivered > 0) {
        await tx.notification.update({ where: { id: n.id }, data: { status: 'sent', attempts: { increment: 1 }, sentAt: new Date(), lastError: null } });
      } else if (targets.length > 0) {
        await tx.notification.update({ where: { id: n.id }, data: { status: 'failed', attempts: { increment: 1 }, lastError } });
      }
      return { id: n.id, stale: null, delivered, gone, targets: targets.length };
    });
    if (!round) break;
    tried.push(round.id);
    if (round.stale) {
      outcome.stale++;
      logger.info('notifications.in_app_skipped', { notificationId: round.id, reason: round.stale });
      continue;
    }
    handled++;
    if (round.delivered > 0) outcome.sent++;
    else if (round.targets > 0) outcome.failed++;
    await forgetConnections(round.gone);
    // One subscriber that could not take a notice (gone, Management API failing) will not take the next.
    if (opts.stopOnFailure && round.delivered === 0 && round.targets > 0) break;
  }
  return outcome;
}

/**
 * Pushes a subject's deliverable notices to every socket subscribed to the clinic or to the
 * subject's professional (at most {@link IN_APP_MAX_TARGETS}). A clinic with no subscribed socket
 * costs one query; its notices wait for the next subscribe.
 */
async function deliverToSubscribers(sel: Selection & ({ appointmentId: string } | { controlId: string }), now: Date): Promise<InAppOutcome> {
  const db = await getDb();
  const { clinicId } = sel;
  const listening = await db.socketConnection.count({ where: { clinicId, scope: { not: null }, apiKey: { revokedAt: null } } });
  if (listening === 0) return { sent: 0, failed: 0, stale: 0 };
  return deliver(
    sel,
    (n, tx) => subscribersOf(tx, clinicId, n.professionalId, IN_APP_MAX_TARGETS),
    { limit: EVENT_LIMIT, stopOnFailure: false },
    now,
  );
}

/**
 * An appointment's event, or one of its reminders firing: its notices go out live to the sockets
 * already subscribed, instead of waiting for the next subscribe.
 */
export async function deliverAppointmentNotices(clinicId: string, appointmentId: string, now = new Date()): Promise<InAppOutcome> {
  return deliverToSubscribers({ clinicId, appointmentId }, now);
}

/**
 * A session package's event (a renewal request): its notices go out live, to the clinic's sockets
 * and those of the control's professional when it has one.
 */
export async function deliverControlNotices(clinicId: string, controlId: string, now = new Date()): Promise<InAppOutcome> {
  return deliverToSubscribers({ clinicId, controlId }, now);
}

/**
 * A socket just subscribed: sends it the clinic's notices nobody received yet that match its scope
 * (the whole clinic, or one professional's), oldest first, at most {@link IN_APP_BACKLOG_LIMIT},
 * none older than {@link IN_APP_MAX_AGE_MS} (the socket sweep marks those expired) nor no longer
 * true (marked skipped). Without
 * this a notice made while nobody listened would wait for the next event of its appointment, which
 * may never come.
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
  if (outcome.sent + outcome.failed + outcome.stale > 0) {
    logger.info('notifications.in_app_backlog', { connectionId: connection.connectionId, clinicId: connection.clinicId, ...outcome });
  }
  return outcome;
}
