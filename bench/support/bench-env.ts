import type { Config } from '../../lib/platform/config';

/**
 * The queue prefix of every bench run (bench/run.ts sets it). The queue entries obliterate their
 * queues and run the worker's consumers on them, which must never touch the product's queues.
 */
export const BENCH_QUEUE_PREFIX = 'agenda-bench';

/**
 * The config's queue prefix, once checked to be a bench one: a QUEUE_PREFIX given from outside
 * (or a config read before this module set it) would point the entries at real queues.
 */
export function benchQueuePrefix(config: Config): string {
  const { prefix } = config.queues;
  if (!prefix.startsWith(BENCH_QUEUE_PREFIX)) {
    throw new Error(
      `QUEUE_PREFIX is "${prefix}": the queue entries obliterate their queues and consume them, so it must start with ` +
        `"${BENCH_QUEUE_PREFIX}" (leave it unset and the bench sets it)`,
    );
  }
  return prefix;
}
