import { Queue, type JobsOptions } from 'bullmq';
import { backOff } from 'exponential-backoff';
import { getConfig } from '../config';
import { DependencyUnavailableError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { getRedis } from '../redis/client';
import { DEFAULT_JOB_OPTIONS, type JobData, type JobName } from './jobs';
import type { QueueName } from './names';

export type TypedQueue<Q extends QueueName> = Queue & {
  add<N extends JobName<Q>>(name: N, data: JobData<Q, N>, opts?: JobsOptions): ReturnType<Queue['add']>;
};

const queues = new Map<QueueName, Promise<Queue>>();

/**
 * One BullMQ Queue per name per container, on the shared Redis client. The first call validates
 * Redis with PING (retried up to QUEUE_CONNECT_ATTEMPTS times, progressive delay) before creating the queue;
 * a failed creation is forgotten so the next call tries again.
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
  // frozen): wait, bounded, for its reconnect rather than failing the caller's command at once.
  await getRedis();
  return queue as TypedQueue<Q>;
}

async function createQueue(name: QueueName): Promise<Queue> {
  const { queues: cfg } = getConfig();
  const redis = await backOff(
    async () => {
      const c = await getRedis();
      await c.ping();
      return c;
    },
    {
      numOfAttempts: cfg.connectAttempts + 1, // the first PING plus QUEUE_CONNECT_ATTEMPTS retries
      startingDelay: 100,
      timeMultiple: 2,
      // getRedis() already waited its bounded ready timeout; waiting it again per attempt would
      // multiply the bound (3 x 1.5 s for functions). Only a failed PING on a ready link is retried.
      retry: (err: unknown) => !(err instanceof DependencyUnavailableError),
    },
  ).catch((err: unknown) => {
    if (err instanceof DependencyUnavailableError) throw err;
    throw new DependencyUnavailableError('queue', `Queue ${name} unavailable: ${(err as Error).message}`, { cause: err });
  });
  const queue = new Queue(name, {
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

/** Closes every queue; the shared Redis client stays open for closeRedis(). Only lib/lifecycle calls this. */
export async function closeQueues(): Promise<void> {
  const pending = [...queues.values()];
  queues.clear(); // before awaiting: a queue created meanwhile belongs to the next generation
  const settled = await Promise.allSettled(pending);
  await Promise.all(settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
}
