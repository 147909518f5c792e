import type { DefaultJobOptions } from 'bullmq';
import type { QueueName } from '../config/queue-names';

/**
 * Every job name and its payload, per queue. BullMQ keeps job data in Redis in clear text, so
 * payloads carry ids only, never patient data (LGPD); processors load what they need from PostgreSQL.
 * Later issues add their jobs here.
 */
export interface JobPayloads {
  agenda: {
    /** End-to-end probe of the function -> queue -> worker path; see lib/domain/canary. */
    'system.canary': { canaryId: string };
    /** A committed domain event to fan out (lib/domain/events); the job id is the event id. */
    'domain.event': { eventId: string };
    /** Periodic pass that republishes outbox rows a failed enqueue left behind (worker/schedulers.ts). */
    'outbox.relay': Record<string, never>;
    /** Periodic scan that emits `control.expiring` for packages ending soon (lib/domain/session-packages/expiring-scan.ts). */
    'controls.expiry_scan': Record<string, never>;
    /** Fires `offsetMinutes` before `startsAt` (ISO); checked against the appointment when it runs (lib/jobs/processors/appointment-reminder.ts). */
    'appointment.reminder': { appointmentId: string; offsetMinutes: number; startsAt: string };
    /** Periodic delete of expired Idempotency-Key records (lib/jobs/processors/idempotency-purge.ts). */
    'idempotency.purge': Record<string, never>;
    /** Periodic purge of records past their clinic's retention, and of old job history (lib/jobs/processors/retention-purge.ts). */
    'retention.purge': Record<string, never>;
    /** Periodic sweep marking appointments left open past their end no-show (lib/domain/appointments/no-show.ts). */
    'appointments.no_show_sweep': Record<string, never>;
    /** Periodic sweep of socket rows API Gateway has closed or whose key was revoked (lib/domain/realtime/sweep.ts). */
    'sockets.sweep': Record<string, never>;
    /** Closes the sockets a revoked API key opened (lib/jobs/processors/sockets-close-for-key.ts); the job id names the key. */
    'sockets.close_for_key': { apiKeyId: string };
  };
  webhook: {
    'system.canary': { canaryId: string };
    /** One signed POST of a webhook delivery (lib/domain/webhooks/delivery.ts); the job id is the delivery id. */
    'webhook.deliver': { deliveryId: string };
  };
  notification: {
    'system.canary': { canaryId: string };
    /** Sends one recorded notice (lib/domain/notifications); the job id is the notification id. */
    'notification.send': { notificationId: string };
  };
  renovacao: {
    'system.canary': { canaryId: string };
    /**
     * Hourly renewal pass over the clinics whose local hour is `localHour` (lib/domain/session-packages/renewal-scan.ts),
     * scheduled by worker/schedulers.ts with RENEWAL_SCAN_LOCAL_HOUR; absent: that setting.
     */
    'renewals.scan': { localHour?: number };
  };
}

export type JobName<Q extends QueueName> = keyof JobPayloads[Q] & string;
export type JobData<Q extends QueueName, N extends JobName<Q>> = JobPayloads[Q][N];

/**
 * Attempts, backoff and retention per queue; completed jobs are kept briefly for inspection.
 * `agenda` and `notification` retry long enough to outlive a database failover of several minutes
 * (8.5 and 21 min in all, see `retryScheduleMs`); BullMQ's exponential backoff has no cap, so the
 * attempts keep the last delay sane (4 and 11 min). A `domain.event` that still fails is re-driven by
 * the outbox relay (OUTBOX_REDRIVE_AFTER_MS, longer than the agenda schedule).
 */
export const DEFAULT_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  agenda: {
    attempts: 9,
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
    attempts: 8,
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

/**
 * The time a job spends waiting between its first failure and its last attempt: the sum of its
 * backoff delays (BullMQ waits delay x 2^(n-1) before retry n of an exponential backoff). Grace
 * periods that judge a job by its outcome must be longer than this.
 */
export function retryScheduleMs(opts: Pick<DefaultJobOptions, 'attempts' | 'backoff'>): number {
  const retries = Math.max((opts.attempts ?? 1) - 1, 0);
  const backoff = typeof opts.backoff === 'number' ? { type: 'fixed', delay: opts.backoff } : opts.backoff;
  if (!backoff || retries === 0) return 0;
  const delay = backoff.delay ?? 0;
  if (backoff.type === 'fixed') return delay * retries;
  if (backoff.type === 'exponential') return delay * (2 ** retries - 1);
  throw new Error(`retryScheduleMs: custom backoff "${backoff.type}" has no closed form`);
}
