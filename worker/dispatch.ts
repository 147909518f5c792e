import type { Job } from 'bullmq';
import { invokeJobFunction } from '../lib/jobs/invoke';
import { runJob, type ExecutionMode } from '../lib/jobs/registry';
import { logger } from '../lib/observability/logger';
import type { QueueName } from '../lib/queues/names';

/**
 * The BullMQ processor for one queue. `inline` runs the job's processor here; `lambda` invokes the
 * job function, which runs the same processor inside Lambda and hands its failure back with the
 * same retry hints (lib/jobs/outcome). Either way a thrown error makes BullMQ retry per the
 * queue's backoff, except an unrecoverable one.
 */
export function processorFor(queue: QueueName, mode: ExecutionMode) {
  return async (job: Job): Promise<unknown> => {
    const ctx = { queue, name: job.name, id: job.id ?? '', data: job.data as unknown, attemptsMade: job.attemptsMade };
    const started = Date.now();
    try {
      const result = mode === 'inline' ? await runJob({ ...ctx, mode }) : await invokeJobFunction(ctx);
      logger.info('job.completed', { queue, name: job.name, jobId: job.id, mode, ms: Date.now() - started });
      return result;
    } catch (err) {
      logger.warn('job.failed', {
        queue, name: job.name, jobId: job.id, mode, attempt: job.attemptsMade + 1, error: (err as Error).message,
        type: (err as Error).name, retryAfterMs: (err as { retryAfterMs?: number }).retryAfterMs,
      });
      throw err;
    }
  };
}
