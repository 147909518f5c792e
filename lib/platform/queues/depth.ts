import { QUEUE_NAMES, type QueueName } from '../config/queue-names';
import { withRedisRetry } from '../redis/client';
import { getQueueByName } from './queues';

/** One queue's jobs by state, as alarms and autoscaling read them. */
export interface QueueDepth {
  /** Ready to run now: waiting plus prioritized (BullMQ keeps prioritized jobs in a set of their own). */
  waiting: number;
  /** Waiting for their time: retries in backoff, reminders, scheduled jobs. */
  delayed: number;
  active: number;
  /** Failed for good and kept (removeOnFail): what an operator must look at. */
  failed: number;
}

/** The four queues' depths, read on this container's queues (one Redis round trip each). */
export async function readQueueDepths(): Promise<Record<QueueName, QueueDepth>> {
  const entries = await Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const queue = await getQueueByName(name);
      const c = await withRedisRetry(() => queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed'));
      const depth: QueueDepth = {
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        delayed: c.delayed ?? 0,
        active: c.active ?? 0,
        failed: c.failed ?? 0,
      };
      return [name, depth] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, QueueDepth>;
}
