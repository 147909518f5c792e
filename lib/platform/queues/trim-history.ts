import type { DefaultJobOptions } from 'bullmq';
import { QUEUE_NAMES, type QueueName } from '../config/queue-names';
import { DEFAULT_JOB_OPTIONS } from './jobs';
import { getQueueByName } from './queues';

/** Jobs removed per clean call, and calls per queue and state per run. */
const CLEAN_LIMIT = 1_000;
const MAX_CLEANS = 10;

/** The age, in ms, past which a finished job is dropped: the queue's `removeOnComplete`/`removeOnFail` age. */
export function keepAgeMs(keep: DefaultJobOptions['removeOnComplete']): number | undefined {
  return typeof keep === 'object' && 'age' in keep && keep.age !== undefined ? keep.age * 1_000 : undefined;
}

/** Finished jobs removed per queue by one trim. */
export type HistoryTrim = Record<QueueName, { completed: number; failed: number }>;

/**
 * Removes completed and failed jobs older than their queue's retention age (DEFAULT_JOB_OPTIONS).
 * BullMQ applies those ages only when another job of the queue finishes, so an idle queue, or a
 * scheduler's jobs (kept by count), would otherwise keep their history, failure reasons included,
 * for ever. Bounded: at most MAX_CLEANS calls of CLEAN_LIMIT jobs per queue and state.
 */
export async function trimJobHistory(limit = CLEAN_LIMIT, maxCleans = MAX_CLEANS): Promise<HistoryTrim> {
  const out = {} as HistoryTrim;
  for (const name of QUEUE_NAMES) {
    const queue = await getQueueByName(name);
    const opts = DEFAULT_JOB_OPTIONS[name];
    out[name] = { completed: 0, failed: 0 };
    for (const [state, keep] of [['completed', opts.removeOnComplete], ['failed', opts.removeOnFail]] as const) {
      const ageMs = keepAgeMs(keep);
      if (ageMs === undefined) continue;
      for (let i = 0; i < maxCleans; i++) {
        const removed = await queue.clean(ageMs, limit, state);
        out[name][state] += removed.length;
        if (removed.length < limit) break;
      }
    }
  }
  return out;
}
