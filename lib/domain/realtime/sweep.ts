import { getDb } from '../../platform/db/client';
import { closeAndForget, type CloseOutcome } from './connections';

/** API Gateway closes every WebSocket connection after 2 hours, whatever its activity. */
export const MAX_CONNECTION_MS = 2 * 3_600_000;
/** API Gateway closes a WebSocket connection that has been idle for 10 minutes. */
export const IDLE_TIMEOUT_MS = 10 * 60_000;
/** Slack on both limits, so clock skew and a message in flight never get a live socket swept. */
export const SWEEP_MARGIN_MS = 5 * 60_000;
/** Sockets closed through the Management API per pass; the rest wait for the next pass. */
const CLOSE_BATCH = 500;

export interface SweepOutcome {
  /** Rows past the maximum duration, deleted without a call: API Gateway closed them for sure. */
  expired: number;
  /** Idle or revoked-key rows handled through DeleteConnection. */
  closed: CloseOutcome;
  /** A full batch was closed: more stale rows wait for the next pass. */
  more: boolean;
}

/**
 * Forgets socket rows whose `$disconnect` never arrived. The rule:
 * - connected more than 2 h + 5 min ago: deleted (API Gateway's maximum connection duration);
 * - no client message (`last_seen_at`: connect, ping, subscribe) for 10 min + 5 min, or opened by a
 *   key revoked since: closed with DeleteConnection (410, already closed, counts as done) and
 *   deleted; a close that fails keeps its row for the next pass.
 * Never throws for a failed close: the next scheduled pass is the retry.
 */
export async function sweepSocketRows(now = new Date()): Promise<SweepOutcome> {
  const db = await getDb();
  const { count: expired } = await db.socketConnection.deleteMany({
    where: { connectedAt: { lt: new Date(now.getTime() - MAX_CONNECTION_MS - SWEEP_MARGIN_MS) } },
  });
  const stale = await db.socketConnection.findMany({
    where: {
      OR: [{ lastSeenAt: { lt: new Date(now.getTime() - IDLE_TIMEOUT_MS - SWEEP_MARGIN_MS) } }, { apiKey: { revokedAt: { not: null } } }],
    },
    select: { connectionId: true, endpoint: true },
    orderBy: { lastSeenAt: 'asc' },
    take: CLOSE_BATCH,
  });
  const closed = await closeAndForget(stale, 'swept');
  return { expired, closed, more: stale.length === CLOSE_BATCH };
}
