import type { JobsOptions, Queue } from 'bullmq';
import { backOff } from 'exponential-backoff';
import { getConfig } from '../config';
import { DependencyUnavailableError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { getRedis, type RedisLink } from '../redis/client';
import { RedisMarkedDownError } from '../errors/redis-link';
import { DEFAULT_JOB_OPTIONS, type JobData, type JobName } from './jobs';
import type { QueueName } from '../config/queue-names';

export type TypedQueue<Q extends QueueName> = Queue & {
  add<N extends JobName<Q>>(name: N, data: JobData<Q, N>, opts?: JobsOptions): ReturnType<Queue['add']>;
};

const queues = new Map<QueueName, Promise<Queue>>();

/**
 * One BullMQ Queue per name per container, on the shared Redis client. The first call validates
 * Redis (a ready link, then PING) in up to QUEUE_CONNECT_ATTEMPTS attempts with progressive delay
 * (`validatedRedis`) before creating the queue; a failed creation is forgotten so the next call
 * tries again.
 */
async function getQueue<Q extends QueueName>(name: Q): Promise<TypedQueue<Q>> {
  let pending = queues.get(name);
  if (!pending) {
    pending = createQueue(name).catch((err) => {
      queues.delete(name);
      throw err;
    });
    queues.set(name, pending);
  }
  const queue = await pending;
  // The shared connection may have died since the queue was created (e.g. while the container was
  // frozen): wait, bounded, for its reconnect rather than failing the caller's command at once
  // (at once after all while Redis is remembered down).
  await getRedis();
  return queue as TypedQueue<Q>;
}

/** Delay before the second attempt of `validatedRedis`; it doubles for each later one. */
const FIRST_RETRY_DELAY_MS = 100;

/**
 * Redis validated for a new queue: up to QUEUE_CONNECT_ATTEMPTS attempts, each a bounded wait for
 * a ready link then a PING, with progressive delay between them, also when the link is down at the
 * first try. Functions fit every attempt, waits and delays, into one REDIS_READY_TIMEOUT_MS (a
 * request must answer well before API Gateway's 29 s), and make none while Redis is remembered
 * down (getRedis() refuses at once); the worker gives each attempt the whole wait: it can wait.
 */
async function validatedRedis(name: QueueName): Promise<RedisLink> {
  const { queues: cfg, redis, profile } = getConfig();
  const bounded = profile !== 'worker';
  const deadline = Date.now() + redis.readyTimeoutMs;
  let attempt = 0;
  return backOff(
    async () => {
      attempt += 1;
      // Functions: what is left of the bound, shared by the attempts still to come.
      const waitMs = bounded ? Math.max(1, Math.floor((deadline - Date.now()) / (cfg.connectAttempts - attempt + 1))) : undefined;
      const c = await getRedis({ waitMs, retrying: attempt > 1 });
      await c.ping();
      return c;
    },
    {
      numOfAttempts: cfg.connectAttempts,
      startingDelay: FIRST_RETRY_DELAY_MS,
      timeMultiple: 2,
      retry: (err: unknown, n: number) => {
        if (n >= cfg.connectAttempts) return false; // backOff asks after the last attempt too
        if (err instanceof RedisMarkedDownError) return false; // down moments ago: no attempt now
        // Functions: a retry whose delay alone would pass the bound is not made.
        if (bounded && Date.now() + FIRST_RETRY_DELAY_MS * 2 ** (n - 1) >= deadline) return false;
        logger.info('queue.redis_retry', { queue: name, attempt: n, error: (err as Error).message });
        return true;
      },
    },
  ).catch((err: unknown) => {
    if (err instanceof DependencyUnavailableError) throw err;
    throw new DependencyUnavailableError('queue', `Queue ${name} unavailable: ${(err as Error).message}`, { cause: err });
  });
}

async function createQueue(name: QueueName): Promise<Queue> {
  const { queues: cfg } = getConfig();
  const redis = await validatedRedis(name);
  // BullMQ is loaded at the first enqueue: most requests of a function that can enqueue never do.
  const { Queue: BullQueue } = await import('bullmq');
  const queue = new BullQueue(name, {
    connection: redis,
    prefix: cfg.prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS[name],
  });
  queue.on('error', (err) => logger.warn('queue.error', { queue: name, error: err.message }));
  // BullMQ checks the server (INFO) in the background; a failure there would poison this queue for
  // the container's life, so wait for it here, where a failure is forgotten and retried.
  await queue.waitUntilReady().catch(async (err: unknown) => {
    await queue.close().catch(() => undefined);
    throw new DependencyUnavailableError('queue', `Queue ${name} unavailable: ${(err as Error).message}`, { cause: err });
  });
  logger.info('queue.created', { queue: name, prefix: cfg.prefix });
  return queue;
}

/** Appointment lifecycle jobs: reminders, no-show sweeps, the outbox relay. */
export const getAgendaQueue = () => getQueue('agenda');
/** Signed webhook deliveries. */
export const getWebhookQueue = () => getQueue('webhook');
/** E-mail and in-app notifications. */
export const getNotificationQueue = () => getQueue('notification');
/** Renewal ("renovação") of session packages. */
export const getRenovacaoQueue = () => getQueue('renovacao');

/** A queue by name, for code that routes by name (health, canary, dispatch). */
export const getQueueByName = <Q extends QueueName>(name: Q) => getQueue(name);

/** Closes every queue; the shared Redis client stays open for closeRedis(). Only lib/platform/lifecycle calls this. */
export async function closeQueues(): Promise<void> {
  const pending = [...queues.values()];
  queues.clear(); // before awaiting: a queue created meanwhile belongs to the next generation
  const settled = await Promise.allSettled(pending);
  await Promise.all(settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
}
