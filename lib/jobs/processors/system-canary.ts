import { setTimeout as sleep } from 'node:timers/promises';
import { getDb } from '../../platform/db/client';
import type { JobContext } from '../../platform/queues/context';
import { getContainerInfo } from '../../platform/observability/container';
import { logger } from '../../platform/observability/logger';

/**
 * Marks a canary processed. Idempotent: BullMQ delivers at least once, and only the first
 * completion is recorded (the update is conditional on status 'queued').
 */
export async function processCanary(job: JobContext): Promise<{ canaryId: string; recorded: boolean }> {
  const { canaryId } = job.data as { canaryId: string };
  const db = await getDb();
  const run = await db.canaryRun.findUnique({ where: { id: canaryId } });
  if (!run) {
    logger.warn('canary.missing', { canaryId });
    return { canaryId, recorded: false };
  }
  if (run.workMs > 0) await sleep(run.workMs);
  const { count } = await db.canaryRun.updateMany({
    where: { id: canaryId, status: 'queued' },
    data: {
      status: 'processed',
      processedAt: new Date(),
      processedBy: getContainerInfo().containerId,
      mode: job.mode,
      attempts: job.attemptsMade + 1,
    },
  });
  logger.info('canary.processed', { canaryId, queue: job.queue, mode: job.mode, recorded: count === 1 });
  return { canaryId, recorded: count === 1 };
}
