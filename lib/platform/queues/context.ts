import type { JobData, JobName } from './jobs';
import type { QueueName } from '../config/queue-names';

/** Where a job runs: in the worker container, or inside the job Lambda invoked by the worker. */
export type ExecutionMode = 'inline' | 'lambda';

/**
 * What a processor sees of a job: ids and metadata, never a BullMQ object, so it runs anywhere.
 * It lives beside the queues so that processors and the registry both import it from below.
 */
export interface JobContext<Q extends QueueName = QueueName, N extends JobName<Q> = JobName<Q>> {
  queue: Q;
  name: N;
  id: string;
  data: JobData<Q, N>;
  /** Attempts that already failed; 0 on the first run. */
  attemptsMade: number;
  mode: ExecutionMode;
  /**
   * The slot a job scheduler created this job for (epoch ms), the same on every attempt; absent for
   * jobs added on demand. A periodic pass that works "as of" its slot reads it instead of the clock,
   * so a retry or a late run does the slot's work rather than the current hour's.
   */
  scheduledAt?: number;
}

/** One job's work, by queue and job name. */
export type Processor<Q extends QueueName, N extends JobName<Q>> = (job: JobContext<Q, N>) => Promise<unknown>;
