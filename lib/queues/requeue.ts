import type { JobsOptions } from 'bullmq';
import type { JobData, JobName } from './jobs';
import type { QueueName } from './names';
import type { TypedQueue } from './queues';

/** States in which a job has run its course: its id no longer stands for work still to do. */
const FINISHED = new Set(['failed', 'completed']);

/**
 * Adds a job under a deterministic id for a record that is still pending (a notice, a webhook
 * delivery). BullMQ ignores an add whose id exists, and keeps failed and completed jobs for days,
 * so a record whose job died (every attempt failed with the database down, say) would never run
 * again: a finished job under that id is removed first. A live one (waiting, delayed, active) is
 * left alone, and the add is then the no-op it should be.
 */
export async function requeuePending<Q extends QueueName, N extends JobName<Q>>(
  queue: TypedQueue<Q>,
  name: N,
  data: JobData<Q, N>,
  opts: JobsOptions & { jobId: string },
): Promise<void> {
  const existing = await queue.getJob(opts.jobId);
  if (existing && FINISHED.has(await existing.getState())) await existing.remove();
  await queue.add(name, data, opts);
}
