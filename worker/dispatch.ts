import type { Job } from 'bullmq';
import { invokeJobFunction, type JobInvocation } from '../lib/jobs/invoke';
import { JOB_OUTCOME_VERSION } from '../lib/jobs/outcome';
import type { ExecutionMode } from '../lib/platform/queues/context';
import { runJob } from '../lib/jobs/registry';
import { logger } from '../lib/platform/observability/logger';
import type { QueueName } from '../lib/platform/config/queue-names';

/**
 * When a job scheduler's job was due: created at `timestamp` with `opts.delay` until its slot. Not
 * `job.delay`, which BullMQ zeroes when the job comes due and sets to the backoff on each retry.
 * Undefined for a job no scheduler made (no `repeatJobKey`).
 */
export function scheduledAtOf(job: Job): number | undefined {
  return job.repeatJobKey ? job.timestamp + (job.opts.delay ?? 0) : undefined;
}

/**
 * What a processor is told of a BullMQ job, inline or through the job Lambda, with the outcome
 * version this worker reads (the job Lambda's event; inline drops it).
 */
export function invocationOf(queue: QueueName, job: Job): JobInvocation {
  const scheduledAt = scheduledAtOf(job);
  return {
    queue, name: job.name, id: job.id ?? '', data: job.data as unknown, attemptsMade: job.attemptsMade,
    ...(scheduledAt !== undefined && { scheduledAt }),
    outcome: JOB_OUTCOME_VERSION,
  };
}

/**
 * The BullMQ processor for one queue. `inline` runs the job's processor here; `lambda` invokes the
 * job function, which runs the same processor inside Lambda. A job function that speaks the outcome
 * handshake hands a failure back with the processor's retry hints; one deployed before it throws,
 * and only the error's name and message reach the worker (lib/jobs/outcome). Either way a thrown
 * error makes BullMQ retry per the queue's backoff, except an unrecoverable one.
 */
export function processorFor(queue: QueueName, mode: ExecutionMode) {
  return async (job: Job): Promise<unknown> => {
    const { outcome, ...ctx } = invocationOf(queue, job);
    const started = Date.now();
    try {
      const result = mode === 'inline' ? await runJob({ ...ctx, mode }) : await invokeJobFunction({ ...ctx, outcome });
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
