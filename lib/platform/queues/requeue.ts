import type { JobsOptions } from 'bullmq';
import type { JobData, JobName } from './jobs';
import type { QueueName } from '../config/queue-names';
import type { TypedQueue } from './queues';

/**
 * States in which a job's id no longer stands for work still to do: it ran its course, or it is
 * `unknown` (its hash survived without a place in any list, e.g. after a partial Redis loss).
 */
const FINISHED = new Set(['failed', 'completed', 'unknown']);

/**
 * Adds a job under a deterministic id for a record that is still pending (a notice, a webhook
 * delivery). BullMQ ignores an add whose id exists, and keeps failed and completed jobs for days,
 * so a record whose job died (every attempt failed with the database down, say) would never run
 * again: a finished job under that id is removed first. A live one (waiting, delayed, active) is
 * left alone, and the add is then the no-op it should be.
 *
 * Returns the state the job was found in (`missing` when there was none): a finished or missing
 * one means a new job was queued, which the relay's sweep counts and logs.
 */
export async function requeuePending<Q extends QueueName, N extends JobName<Q>>(
  queue: TypedQueue<Q>,
  name: N,
  data: JobData<Q, N>,
  opts: JobsOptions & { jobId: string },
): Promise<string> {
  const existing = await queue.getJob(opts.jobId);
  const state = existing ? await existing.getState() : 'missing';
  if (existing && FINISHED.has(state)) await existing.remove();
  await queue.add(name, data, opts);
  return state;
}

/** Whether `requeuePending` found no job that could still do the work, and so queued a new one. */
export const requeued = (state: string) => state === 'missing' || FINISHED.has(state);
