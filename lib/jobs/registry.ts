import { UnrecoverableError } from './unrecoverable';
import { processCanary } from '../canary/processor';
import { scanExpiringControls } from '../controls/expiry';
import { sweepNoShows } from '../appointments/no-show';
import { purgeExpired } from '../http/idempotency';
import { closeKeySockets } from '../realtime/key-sockets';
import { sweepSockets } from '../realtime/sweep';
import { processDomainEvent, processOutboxRelay } from '../outbox/processors';
import { processReminder } from '../reminders/processor';
import { processNotificationSend } from '../notifications/notifications';
import { processWebhookDelivery } from '../webhooks/deliver';
import { scanRenewals } from '../renewals/scan';
import type { JobData, JobName } from '../queues/jobs';
import type { QueueName } from '../queues/names';

/** Where a job runs: in the worker container, or inside the job Lambda invoked by the worker. */
export type ExecutionMode = 'inline' | 'lambda';

/** What a processor sees of a job: ids and metadata, never a BullMQ object, so it runs anywhere. */
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

export type Processor<Q extends QueueName, N extends JobName<Q>> = (job: JobContext<Q, N>) => Promise<unknown>;
type Registry = { [Q in QueueName]: { [N in JobName<Q>]: Processor<Q, N> } };

/**
 * Every processor, by queue and job name. The worker container and the job Lambda both run jobs
 * through here, so a queue can move between `inline` and `lambda` without code changes.
 * The type makes a job name declared in lib/queues/jobs.ts without a processor a compile error.
 */
const processors: Registry = {
  agenda: {
    'system.canary': processCanary,
    'domain.event': processDomainEvent,
    'outbox.relay': processOutboxRelay,
    'controls.expiry_scan': () => scanExpiringControls(),
    'appointment.reminder': processReminder,
    'appointments.no_show_sweep': () => sweepNoShows(),
    'idempotency.purge': () => purgeExpired(),
    'sockets.sweep': () => sweepSockets(),
    'sockets.close_for_key': closeKeySockets,
  },
  webhook: { 'system.canary': processCanary, 'webhook.deliver': processWebhookDelivery },
  notification: { 'system.canary': processCanary, 'notification.send': processNotificationSend },
  renovacao: {
    'system.canary': processCanary,
    'renewals.scan': (job) =>
      scanRenewals({ localHour: job.data.localHour, ...(job.scheduledAt !== undefined && { now: new Date(job.scheduledAt) }) }),
  },
};

/** A job as it arrives from BullMQ or the job Lambda's event: names and data not yet trusted. */
export interface JobEnvelope {
  queue: QueueName;
  name: string;
  id: string;
  data: unknown;
  attemptsMade: number;
  mode: ExecutionMode;
  scheduledAt?: number;
}

/** Runs one job. An unknown name is unrecoverable: retrying cannot help. */
export async function runJob(job: JobEnvelope): Promise<unknown> {
  const byName = processors[job.queue] as Record<string, Processor<QueueName, never> | undefined>;
  const processor = byName[job.name];
  if (!processor) throw new UnrecoverableError(`No processor for job "${job.name}" on queue "${job.queue}"`);
  return processor(job as never);
}
