import type { DefaultJobOptions } from 'bullmq';
import type { QueueName } from './names';

/**
 * Every job name and its payload, per queue. BullMQ keeps job data in Redis in clear text, so
 * payloads carry ids only, never patient data (LGPD); processors load what they need from PostgreSQL.
 * Later issues add their jobs here.
 */
export interface JobPayloads {
  agenda: {
    /** End-to-end probe of the function -> queue -> worker path; see lib/canary. */
    'system.canary': { canaryId: string };
    /** A committed domain event to fan out (lib/outbox); the job id is the event id. */
    'domain.event': { eventId: string };
    /** Periodic pass that republishes outbox rows a failed enqueue left behind (worker/schedulers.ts). */
    'outbox.relay': Record<string, never>;
    /** Periodic scan that emits `control.expiring` for packages ending soon (lib/controls/expiry.ts). */
    'controls.expiry_scan': Record<string, never>;
    /** Fires `offsetMinutes` before `startsAt` (ISO); checked against the appointment when it runs (lib/reminders). */
    'appointment.reminder': { appointmentId: string; offsetMinutes: number; startsAt: string };
    /** Periodic sweep marking appointments left open past their end no-show (lib/appointments/no-show.ts). */
    'appointments.no_show_sweep': Record<string, never>;
    /** Periodic sweep of socket rows API Gateway has closed or whose key was revoked (lib/realtime/sweep.ts). */
    'sockets.sweep': Record<string, never>;
    /** Closes the sockets a revoked API key opened (lib/realtime/key-sockets.ts); the job id names the key. */
    'sockets.close_for_key': { apiKeyId: string };
  };
  webhook: {
    'system.canary': { canaryId: string };
    /** One signed POST of a webhook delivery (lib/webhooks/deliver.ts); the job id is the delivery id. */
    'webhook.deliver': { deliveryId: string };
  };
  notification: {
    'system.canary': { canaryId: string };
    /** Sends one recorded notice (lib/notifications); the job id is the notification id. */
    'notification.send': { notificationId: string };
  };
  renovacao: {
    'system.canary': { canaryId: string };
    /** Daily renewal scan of session packages (lib/renewals/service.ts), scheduled by worker/schedulers.ts. */
    'renewals.scan': Record<string, never>;
  };
}

export type JobName<Q extends QueueName> = keyof JobPayloads[Q] & string;
export type JobData<Q extends QueueName, N extends JobName<Q>> = JobPayloads[Q][N];

/** Attempts, backoff and retention per queue; completed jobs are kept briefly for inspection. */
export const DEFAULT_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  agenda: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: { age: 24 * 3600, count: 1_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  webhook: {
    attempts: 8,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: { age: 24 * 3600, count: 5_000 },
    removeOnFail: { age: 14 * 24 * 3600 },
  },
  notification: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 10_000 },
    removeOnComplete: { age: 24 * 3600, count: 5_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
  renovacao: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 60_000 },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  },
};
