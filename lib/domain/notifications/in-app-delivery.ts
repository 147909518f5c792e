import { getConfig } from '../../platform/config';
import { inTransaction, type Tx } from '../../platform/db/transaction';
import { logger } from '../../platform/observability/logger';
import { forgetConnections, type PushTarget } from '../realtime/connections';
import { pushToMany } from '../realtime/push';
import { claimNext, staleness, type Claimed, type Selection } from './in-app-claim';
import { IN_APP_MAX_AGE_MS } from './in-app-expiry';

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

/** Counts per pass, for the caller's log line: a delivery never throws for a failed push. */
export interface InAppOutcome {
  sent: number;
  failed: number;
  /** Marked `skipped` instead of pushed: not allowed (anonymised, blocked, no consent; ./consent-rule) or no longer true (./stale). */
  stale: number;
}

const message = (n: Claimed): InAppMessage => ({
  type: 'notification',
  notificationId: n.id,
  kind: n.kind,
  appointmentId: n.appointmentId,
  controlId: n.controlId,
});

/** Where a claimed notice goes; read inside its transaction, so the targets match the lock. */
export type TargetsFor = (n: Claimed, tx: Tx) => Promise<PushTarget[]>;

/**
 * The delivery loop shared by every trigger: one short transaction per notice, holding its row lock
 * only across its own pushes (all in parallel, under one deadline), so the status written (`sent`
 * once a push succeeded; `failed` with attempts + 1 and the error when every push failed) is never
 * raced by another delivery. A notice no longer true is marked `skipped` with the reason under the
 * same lock, never pushed. A commit lost after a successful push leaves the notice deliverable: at
 * least once, hence `notificationId`. Notices nobody could receive stay as they are. `limit` counts
 * notices pushed or left for lack of a target; skipped ones leave the set, so they need no bound.
 */
export async function deliverInApp(
  sel: Selection,
  targetsFor: TargetsFor,
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
