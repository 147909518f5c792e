import { getDb } from '../../platform/db/client';
import { DependencyUnavailableError, NotFoundError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import type { QueueName } from '../../platform/config/queue-names';
import { getQueueByName } from '../../platform/queues/queues';
import { withRedisRetry } from '../../platform/redis/client';

/**
 * Canaries prove the whole path an operator cares about: a function writes a row and enqueues,
 * the worker (inline or through the job Lambda) processes it and records who did, in what mode.
 */
export async function requestCanary(queue: QueueName, workMs: number) {
  const db = await getDb();
  const q = await getQueueByName(queue); // fail with 503 before writing anything
  const run = await db.canaryRun.create({ data: { queue, workMs } });
  try {
    // A fixed job id makes the add idempotent, so it is safe to repeat after a lost link.
    await withRedisRetry(() => q.add('system.canary', { canaryId: run.id }, { jobId: `canary-${run.id}` }));
  } catch (err) {
    // Nothing half-written: without its job the row would wait forever.
    await db.canaryRun.delete({ where: { id: run.id } }).catch((e: Error) =>
      logger.error('canary.cleanup_failed', { canaryId: run.id, error: e.message }),
    );
    throw new DependencyUnavailableError('queue', `Could not enqueue on ${queue}: ${(err as Error).message}`, { cause: err });
  }
  logger.info('canary.requested', { canaryId: run.id, queue });
  return run;
}

export async function getCanary(id: string) {
  const db = await getDb();
  const run = await db.canaryRun.findUnique({ where: { id } });
  if (!run) throw new NotFoundError(`Canary ${id} not found`);
  return run;
}
