import { getDb } from '../db/client';
import type { JobContext } from '../jobs/registry';
import { logger } from '../observability/logger';
import { getAgendaQueue } from '../queues/queues';
import { closeAndForget, isKeyRevoked, type CloseOutcome } from './connections';

/** One close job per key (BullMQ ids take no colon): a second revoke of the same key (a client's retry) adds nothing. */
export const closeKeySocketsJobId = (apiKeyId: string) => `sockets-close-${apiKeyId}`;

/** Sockets of one key closed per job; a key with more is finished by the sweep. */
const CLOSE_BATCH = 1_000;

/**
 * Asks the worker to close a revoked key's sockets (`sockets.close_for_key`). Best effort: the
 * revoke has already taken effect (the key's sockets are refused and skipped from then on), so a
 * failed enqueue is logged and the periodic sweep closes them instead. Returns whether it was queued.
 */
export async function requestKeySocketsClose(apiKeyId: string): Promise<boolean> {
  try {
    const queue = await getAgendaQueue();
    await queue.add('sockets.close_for_key', { apiKeyId }, { jobId: closeKeySocketsJobId(apiKeyId) });
    return true;
  } catch (err) {
    logger.warn('socket.close_enqueue_failed', { apiKeyId, error: (err as Error).message });
    return false;
  }
}

/**
 * `sockets.close_for_key`: closes every socket the key opened (DeleteConnection) and deletes their
 * rows. Does nothing for a key that is not revoked. Throws while some close failed (or was cut off
 * by the deadline), so BullMQ retries with backoff; the rows already closed are gone, so a retry
 * only redoes the rest.
 */
export async function closeKeySockets(job: JobContext<'agenda', 'sockets.close_for_key'>): Promise<CloseOutcome & { apiKeyId: string }> {
  const { apiKeyId } = job.data;
  const db = await getDb();
  if (!(await isKeyRevoked(apiKeyId))) return { apiKeyId, closed: 0, gone: 0, failed: 0 };
  const rows = await db.socketConnection.findMany({
    where: { apiKeyId },
    select: { connectionId: true, endpoint: true },
    take: CLOSE_BATCH,
  });
  const outcome = await closeAndForget(rows, 'key_revoked');
  logger.info('socket.key_sockets_closed', { apiKeyId, ...outcome });
  if (outcome.failed > 0) throw new Error(`${outcome.failed} of ${rows.length} sockets of a revoked key could not be closed`);
  return { apiKeyId, ...outcome };
}
