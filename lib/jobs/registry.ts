import { actingAs } from '../platform/db/actor';
import { UnrecoverableError } from '../platform/queues/unrecoverable';
import { redactError } from '../platform/observability/redact';
import type { ExecutionMode, Processor } from '../platform/queues/context';
import type { JobName } from '../platform/queues/jobs';
import type { QueueName } from '../platform/config/queue-names';
import { processReminder } from './processors/appointment-reminder';
import { processNoShowSweep } from './processors/appointments-no-show-sweep';
import { processControlsExpiryScan } from './processors/controls-expiry-scan';
import { processDomainEvent } from './processors/domain-event';
import { processIdempotencyPurge } from './processors/idempotency-purge';
import { processNotificationSend } from './processors/notification-send';
import { processOutboxRelay } from './processors/outbox-relay';
import { processRenewalsScan } from './processors/renewals-scan';
import { processRetentionPurge } from './processors/retention-purge';
import { processSocketsCloseForKey } from './processors/sockets-close-for-key';
import { processSocketsSweep } from './processors/sockets-sweep';
import { processCanary } from './processors/system-canary';
import { processWebhookDelivery } from './processors/webhook-deliver';

type Registry = { [Q in QueueName]: { [N in JobName<Q>]: Processor<Q, N> } };

/**
 * Every processor, by queue and job name: the only place that knows them all. The worker container
 * and the job Lambda both run jobs through here, so a queue can move between `inline` and `lambda`
 * without code changes. The type makes a job name declared in lib/platform/queues/jobs.ts without a
 * processor a compile error.
 */
const processors: Registry = {
  agenda: {
    'system.canary': processCanary,
    'domain.event': processDomainEvent,
    'outbox.relay': processOutboxRelay,
    'controls.expiry_scan': processControlsExpiryScan,
    'appointment.reminder': processReminder,
    'appointments.no_show_sweep': processNoShowSweep,
    // These take batch bounds and a clock for tests, not a job.
    'idempotency.purge': () => processIdempotencyPurge(),
    'retention.purge': () => processRetentionPurge(),
    'sockets.sweep': () => processSocketsSweep(),
    'sockets.close_for_key': processSocketsCloseForKey,
  },
  webhook: { 'system.canary': processCanary, 'webhook.deliver': processWebhookDelivery },
  notification: { 'system.canary': processCanary, 'notification.send': processNotificationSend },
  renovacao: { 'system.canary': processCanary, 'renewals.scan': processRenewalsScan },
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

/**
 * Runs one job. An unknown name is unrecoverable: retrying cannot help. Whatever a processor throws
 * leaves redacted (message and stack, in place, so an UnrecoverableError stays one): this is where
 * every job's error starts on its way to BullMQ's failure reason and stack in Redis, the worker's
 * `job.failed` line, or the job Lambda's answer, whichever runs it.
 */
export async function runJob(job: JobEnvelope): Promise<unknown> {
  const byName = processors[job.queue] as Record<string, Processor<QueueName, never> | undefined>;
  const processor = byName[job.name];
  if (!processor) throw new UnrecoverableError(`No processor for job "${job.name}" on queue "${job.queue}"`);
  try {
    // The audit trail names the job (its name) and ties the record to this run (its id).
    return await actingAs({ type: 'job', id: job.name, requestId: job.id }, () => processor(job as never));
  } catch (err) {
    throw redactError(err);
  }
}
