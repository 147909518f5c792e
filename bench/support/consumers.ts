import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../lib/platform/config';
import { getConfig } from '../../lib/platform/config';
import { QUEUE_NAMES, type QueueName } from '../../lib/platform/config/queue-names';
import { getRedis } from '../../lib/platform/redis/client';
import { startConsumers, stopConsumers } from '../../worker/consumers';

export interface BenchConsumers {
  workers: Worker[];
  /** The name of the client the consumers share (their blocking connections are named `<prefix>:...`). */
  sharedClientName: string;
  prefix: string;
  stop(): Promise<void>;
}

/**
 * The worker container's consumers (worker/consumers.ts `startConsumers`, every queue `inline`),
 * running in the bench process. The bench runs under the api profile (the config is read once per
 * process), whose Redis client fails fast and which BullMQ refuses for a Worker's blocking
 * connection; so the consumers get a duplicate of it with the worker profile's Redis options
 * (no command or socket timeout, `maxRetriesPerRequest: null`, offline queue), as
 * worker/main.ts hands them its own client. Everything else is the product's.
 */
export async function startBenchConsumers(opts: {
  prefix: string;
  concurrency?: Partial<Record<QueueName, number>>;
  clientName: string;
}): Promise<BenchConsumers> {
  const base = getConfig();
  const config: Config = {
    ...base,
    queues: { ...base.queues, prefix: opts.prefix },
    worker: {
      ...base.worker,
      mode: Object.fromEntries(QUEUE_NAMES.map((q) => [q, 'inline'])) as Config['worker']['mode'],
      concurrency: { ...base.worker.concurrency, ...opts.concurrency },
    },
  };
  // The benchmarks run on one server, whose copy takes single-node options.
  const shared = ((await getRedis()) as Redis).duplicate({
    connectionName: opts.clientName,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    socketTimeout: undefined,
    enableOfflineQueue: true,
  });
  const workers = startConsumers(config, shared);
  try {
    await Promise.all(workers.map((w) => w.waitUntilReady()));
  } catch (err) {
    await Promise.allSettled(workers.map((w) => w.close(true)));
    shared.disconnect();
    throw err;
  }
  return {
    workers,
    sharedClientName: opts.clientName,
    prefix: opts.prefix,
    async stop() {
      await stopConsumers(workers, 10_000);
      await shared.quit().catch(() => shared.disconnect());
    },
  };
}
