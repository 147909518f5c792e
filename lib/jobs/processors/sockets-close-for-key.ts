import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import type { JobContext } from '../../platform/queues/context';
import { closeAndForget, isKeyRevoked, type CloseOutcome } from '../../domain/realtime/connections';

/** Sockets of one key closed per job; a key with more is finished by the sweep. */
const CLOSE_BATCH = 1_000;

/**
 * `sockets.close_for_key`: closes every socket the key opened (DeleteConnection) and deletes their
 * rows. Does nothing for a key that is not revoked. Throws while some close failed (or was cut off
 * by the deadline), so BullMQ retries with backoff; the rows already closed are gone, so a retry
 * only redoes the rest.
 */
export async function processSocketsCloseForKey(job: JobContext<'agenda', 'sockets.close_for_key'>): Promise<CloseOutcome & { apiKeyId: string }> {
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
