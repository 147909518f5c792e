import { Worker } from 'bullmq';
import type { Config } from '../lib/platform/config';
import { logger } from '../lib/platform/observability/logger';
import type { RedisLink } from '../lib/platform/redis/client';
import { QUEUE_NAMES } from '../lib/platform/config/queue-names';
import { webhookBackoffStrategy } from '../lib/domain/webhooks/retry-policy';
import { processorFor } from './dispatch';

/**
 * One BullMQ Worker per queue. Each runs its commands on the worker's shared Redis client and
 * duplicates it once for its blocking waits (BZPOPMIN), so four queues cost five Redis connections
 * in all (counted on the server). Concurrency and execution mode come from config.
 */
export function startConsumers(config: Config, redis: RedisLink): Worker[] {
  return QUEUE_NAMES.map((queue) => {
    const mode = config.worker.mode[queue];
    const worker = new Worker(queue, processorFor(queue, mode), {
      connection: redis,
      prefix: config.queues.prefix,
      concurrency: config.worker.concurrency[queue],
      lockDuration: config.worker.lockDurationMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.maxStalledCount,
      // Custom backoff types (only `webhook` today: its schedule, jitter and Retry-After). Passed as
      // is: it reads the job (BullMQ's 4th argument) for the delivery id its jitter is drawn from.
      settings: { backoffStrategy: webhookBackoffStrategy },
    });
    worker.on('error', (err) => logger.error('worker.error', { queue, error: err.message }));
    worker.on('stalled', (jobId) => logger.warn('worker.job_stalled', { queue, jobId }));
    logger.info('worker.started', { queue, mode, concurrency: config.worker.concurrency[queue] });
    return worker;
  });
}

/**
 * Stops taking jobs and lets active ones finish within `timeoutMs`. Past the bound the caller exits
 * anyway: unfinished jobs keep their lock until it expires (WORKER_LOCK_DURATION_MS), then BullMQ's
 * stalled-job check hands them to another worker (at-least-once), so nothing is lost.
 * (BullMQ's `close(true)` cannot help here: once a graceful close is under way it returns that.)
 */
export async function stopConsumers(workers: Worker[], timeoutMs: number): Promise<'drained' | 'forced'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => resolve('forced'), timeoutMs);
  });
  const drained = Promise.all(workers.map((w) => w.close())).then(() => 'drained' as const);
  const outcome = await Promise.race([drained, timedOut]);
  clearTimeout(timer);
  if (outcome === 'forced') {
    logger.warn('worker.drain_timeout', { timeoutMs, note: 'unfinished jobs return to the queue when their lock expires' });
  }
  return outcome;
}
