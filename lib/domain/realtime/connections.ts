import { setMaxListeners } from 'node:events';
import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import type { Tx } from '../../platform/db/transaction';
import { batchesOf, closeConnection } from './push';

/** A socket's row as a message handler needs it. */
export interface SocketConnectionInfo {
  connectionId: string;
  clinicId: string;
  /** null until `subscribe`; then `clinic` or a professional id. */
  scope: string | null;
  endpoint: string;
  /** The key that opened it was revoked since: the socket must be refused and closed. */
  keyRevoked: boolean;
}

/**
 * Loads a socket's row and records the client's activity (`last_seen_at`, which the sweep compares
 * with API Gateway's idle timeout) in one round trip. null: no such row (never connected, closed,
 * or swept).
 */
export async function touchConnection(connectionId: string): Promise<SocketConnectionInfo | null> {
  const db = await getDb();
  const rows = await db.$queryRaw<SocketConnectionInfo[]>`
    UPDATE socket_connections s SET last_seen_at = now()
    FROM api_keys k
    WHERE s.connection_id = ${connectionId} AND k.id = s.api_key_id
    RETURNING s.connection_id AS "connectionId", s.clinic_id::text AS "clinicId", s.scope, s.endpoint,
              (k.revoked_at IS NOT NULL) AS "keyRevoked"`;
  return rows[0] ?? null;
}

export interface PushTarget {
  connectionId: string;
  endpoint: string;
}

/**
 * The sockets that hear about a clinic's change: subscribed to the given professional, then to the
 * whole clinic, each oldest first, opened by a key that is still valid (a revoked key's socket hears
 * nothing, even before it is closed). `limit` keeps the first ones only, so under a cap the
 * professional's own agenda is never crowded out by clinic-wide screens.
 */
export async function subscribersOf(
  db: Pick<Tx, 'socketConnection'>,
  clinicId: string,
  professionalId: string | null,
  limit?: number,
): Promise<PushTarget[]> {
  const inScope = (scope: string, take?: number) =>
    db.socketConnection.findMany({
      where: { clinicId, scope, apiKey: { revokedAt: null } },
      select: { connectionId: true, endpoint: true },
      orderBy: [{ connectedAt: 'asc' }, { connectionId: 'asc' }],
      ...(take !== undefined && { take }),
    });
  const own = professionalId ? await inScope(professionalId, limit) : [];
  const room = limit === undefined ? undefined : limit - own.length;
  return room === 0 ? own : [...own, ...(await inScope('clinic', room))];
}

/** Deletes the rows of connections found gone (410) or closed. */
export async function forgetConnections(connectionIds: string[]): Promise<void> {
  if (connectionIds.length === 0) return;
  const db = await getDb();
  await db.socketConnection.deleteMany({ where: { connectionId: { in: connectionIds } } });
}

/**
 * Whether a key can no longer hold sockets: revoked, or deleted (its socket rows went with it). One
 * lookup for `$connect`'s second look and the close job's guard, so both read "revoked" alike.
 */
export async function isKeyRevoked(apiKeyId: string): Promise<boolean> {
  const db = await getDb();
  const key = await db.apiKey.findUnique({ where: { id: apiKeyId }, select: { revokedAt: true } });
  return !key || key.revokedAt !== null;
}

export interface CloseOutcome {
  /** Closed by us (DeleteConnection answered 2xx). */
  closed: number;
  /** Already gone (410). */
  gone: number;
  /** Not closed (DeleteConnection failed, or the deadline came first); these rows are kept, so a later pass tries again. */
  failed: number;
}

/** Bound on one batch of DeleteConnections, retries included. */
const CLOSE_TIMEOUT_MS = 5_000;
/**
 * Bound on one {@link closeAndForget}: half the job Lambda's 120 s timeout (agenda queue in `lambda`
 * mode), so a pass against a slow Management API ends by itself, with its finished batches forgotten.
 */
export const CLOSE_DEADLINE_MS = 60_000;

/**
 * Closes sockets through the Management API and deletes the rows of those now closed or already
 * gone. A connection whose close failed keeps its row: refusing its messages (socket handler) and
 * skipping it in pushes does not depend on the close, and the next pass retries it.
 *
 * Closes run a batch (`FAN_BATCH`, 50) at once, and each batch's rows are deleted as soon as it is
 * answered, so a pass cut short (deadline, Lambda timeout) never redoes the batches it finished.
 * Past `deadlineMs` the batch in flight is aborted and the rest count as failed, for the next pass.
 */
export async function closeAndForget(targets: PushTarget[], reason: string, { deadlineMs = CLOSE_DEADLINE_MS } = {}): Promise<CloseOutcome> {
  const outcome: CloseOutcome = { closed: 0, gone: 0, failed: 0 };
  const deadline = AbortSignal.timeout(deadlineMs);
  let untried = 0;
  for (const batch of batchesOf(targets)) {
    if (deadline.aborted) {
      untried += batch.length;
      continue;
    }
    const signal = AbortSignal.any([deadline, AbortSignal.timeout(CLOSE_TIMEOUT_MS)]);
    // The batch's calls all listen on it; it lives for this batch only.
    setMaxListeners(0, signal);
    const results = await Promise.allSettled(batch.map((t) => closeConnection(t.endpoint, t.connectionId, { signal })));
    const done: string[] = [];
    results.forEach((r, i) => {
      const { connectionId } = batch[i]!;
      if (r.status === 'rejected') {
        outcome.failed++;
        logger.warn('socket.close_failed', { connectionId, reason, error: (r.reason as Error)?.message ?? String(r.reason) });
        return;
      }
      if (r.value) outcome.closed++;
      else outcome.gone++;
      done.push(connectionId);
    });
    await forgetConnections(done);
  }
  if (untried > 0) {
    outcome.failed += untried;
    logger.warn('socket.close_deadline', { reason, untried, deadlineMs });
  }
  return outcome;
}
