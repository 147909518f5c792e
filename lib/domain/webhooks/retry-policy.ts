import { createHash } from 'node:crypto';
import type { JobsOptions, MinimalJob } from 'bullmq';

/**
 * Delays before retries 1..7 (the first attempt runs at once): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 10 h. The quick ones ride out a blip; the tail spans over a day, so a receiver down that long
 * still gets the event.
 */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
/** The immediate attempt plus one per retry delay: BullMQ's `attempts` must match the schedule. */
export const WEBHOOK_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** BullMQ calls the worker's backoff strategy only for a custom type; this is ours. */
export const WEBHOOK_BACKOFF_TYPE = 'webhook';
/**
 * A Retry-After beyond 24 h is capped: enough for a receiver's overnight maintenance window, while
 * a typo or a hostile value (years) cannot park a delivery indefinitely.
 */
export const MAX_RETRY_AFTER_MS = 86_400_000;
/**
 * A failure more than this after the endpoint's previous one starts a new failure streak (26 h).
 * It exceeds the longest wait the schedule can put between two attempts of one delivery (10 h with
 * +20 % jitter, or a Retry-After capped at 24 h) plus 2 h for a busy queue, so a delivery that is
 * still retrying keeps its streak going; an endpoint that was quiet for longer starts over, and one
 * transient error after a streak that ended days ago cannot disable it.
 */
export const FAILURE_STREAK_GAP_MS = Math.max(Math.max(...RETRY_DELAYS_MS) * 1.2, MAX_RETRY_AFTER_MS) + 2 * 3_600_000;

/** A failed attempt BullMQ should retry; it carries the receiver's Retry-After to the backoff. */
export class WebhookAttemptFailedError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'WebhookAttemptFailedError';
  }
}

/**
 * The jitter of one retry, a factor in [0.8, 1.2) drawn from a hash of the delivery and the attempt
 * instead of Math.random: BullMQ's backoff strategy (in the worker) and the processor recording
 * `nextAttemptAt` (in the worker or the job Lambda) compute the delay separately and must agree.
 * Deliveries failing together still spread out, each id drawing its own factor.
 */
export function jitterFactor(deliveryId: string, attemptsMade: number): number {
  const digest = createHash('sha256').update(`${deliveryId}:${attemptsMade}`).digest();
  return 0.8 + 0.4 * (digest.readUInt32BE(0) / 2 ** 32);
}

/**
 * The wait after `attemptsMade` failures. A longer Retry-After (capped) wins, a shorter one never
 * does: a receiver answering `Retry-After: 0` would otherwise burn every attempt in seconds.
 * `err` is read by shape, since in lambda mode it is the JobFunctionError rebuilt from the job
 * Lambda's result (lib/jobs/outcome), not a WebhookAttemptFailedError.
 */
export function webhookDelay(attemptsMade: number, deliveryId: string, err?: Error): number {
  const base = RETRY_DELAYS_MS[Math.min(Math.max(attemptsMade, 1), RETRY_DELAYS_MS.length) - 1]!;
  const scheduled = Math.floor(base * jitterFactor(deliveryId, attemptsMade));
  const retryAfter = (err as WebhookAttemptFailedError | undefined)?.retryAfterMs;
  if (typeof retryAfter !== 'number' || !(retryAfter >= 0)) return scheduled;
  return Math.max(scheduled, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
}

/** Receivers send Retry-After as seconds or as an HTTP date; the delay needs milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Whether a failed attempt was the delivery's last: then it fails for good and shows no next
 * attempt. Otherwise the same delay BullMQ's strategy computes for this job (same key, same error),
 * from about the same instant, so what GET deliveries shows is when the retry runs.
 */
export function afterFailure(attemptsMade: number, deliveryId: string, err: Error, now = Date.now()): { last: boolean; nextAttemptAt: Date | null } {
  const last = attemptsMade + 1 >= WEBHOOK_ATTEMPTS;
  return { last, nextAttemptAt: last ? null : new Date(now + webhookDelay(attemptsMade + 1, deliveryId, err)) };
}

/**
 * An endpoint failing without a break (no gap of FAILURE_STREAK_GAP_MS) for the configured time is
 * disabled: its receiver is gone in all but name, and every retry only adds load on both sides.
 */
export function streakWarrantsDisable(firstFailureAt: Date, failedAt: Date, disableAfterHours: number): boolean {
  return failedAt.getTime() - firstFailureAt.getTime() >= disableAfterHours * 3_600_000;
}

/** Every enqueue of a delivery uses these, so a repeat is deduplicated by its id and retried on our schedule. */
export const deliveryJobOptions = (deliveryId: string): JobsOptions => ({
  jobId: deliveryId,
  attempts: WEBHOOK_ATTEMPTS,
  backoff: { type: WEBHOOK_BACKOFF_TYPE },
});

/**
 * BullMQ Worker `settings.backoffStrategy`. Keyed on the job's delivery id, as the processor is, so
 * both compute the same delay.
 */
export const webhookBackoffStrategy = (attemptsMade: number, _type?: string, err?: Error, job?: MinimalJob): number =>
  webhookDelay(attemptsMade, deliveryIdOf(job), err);

const deliveryIdOf = (job?: MinimalJob): string => {
  const id = (job?.data as { deliveryId?: unknown } | undefined)?.deliveryId;
  return typeof id === 'string' ? id : (job?.id ?? '');
};
