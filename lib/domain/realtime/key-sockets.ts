import { logger } from '../../platform/observability/logger';
import { getAgendaQueue } from '../../platform/queues/queues';

/** One close job per key (BullMQ ids take no colon): a second revoke of the same key (a client's retry) adds nothing. */
export const closeKeySocketsJobId = (apiKeyId: string) => `sockets-close-${apiKeyId}`;

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
