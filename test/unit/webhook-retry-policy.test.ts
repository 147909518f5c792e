import fc from 'fast-check';
import type { MinimalJob } from 'bullmq';
import {
  afterFailure,
  deliveryJobOptions,
  jitterFactor,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  RETRY_DELAYS_MS,
  streakWarrantsDisable,
  WEBHOOK_ATTEMPTS,
  WEBHOOK_BACKOFF_TYPE,
  webhookBackoffStrategy,
  webhookDelay,
  WebhookAttemptFailedError,
} from '../../lib/domain/webhooks/retry-policy';

/**
 * The retry policy as the README documents it: retries at 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
 * with ±20 % jitter drawn from the delivery id and the attempt; a longer Retry-After wins, capped at
 * 24 h; an endpoint failing without a break for WEBHOOK_DISABLE_AFTER_HOURS is disabled.
 */

const HOUR = 3_600_000;
const RETRIES = RETRY_DELAYS_MS.length;
const deliveryId = fc.uuid();
const retry = fc.integer({ min: 1, max: RETRIES });
const baseOf = (attempt: number) => RETRY_DELAYS_MS[attempt - 1]!;
const failedWith = (retryAfterMs?: number) => new WebhookAttemptFailedError('receiver answered 503', retryAfterMs);
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('webhook retry schedule', () => {
  it('has one attempt per delay plus the immediate one', () => {
    expect(RETRY_DELAYS_MS).toEqual([5_000, 5 * 60_000, 30 * 60_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]);
    expect(WEBHOOK_ATTEMPTS).toBe(8);
  });

  it('draws a jitter factor in [0.8, 1.2), the same every time for a delivery and attempt', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 100 }), (id, attempt) => {
        const f = jitterFactor(id, attempt);
        expect(f).toBeGreaterThanOrEqual(0.8);
        expect(f).toBeLessThan(1.2);
        expect(jitterFactor(id, attempt)).toBe(f);
      }),
    );
  });

  it('keeps every delay within ±20 % of its step', () => {
    fc.assert(
      fc.property(deliveryId, retry, (id, attempt) => {
        const d = webhookDelay(attempt, id);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(Math.floor(baseOf(attempt) * 0.8));
        expect(d).toBeLessThan(baseOf(attempt) * 1.2);
      }),
    );
  });

  it('clamps attempt counts outside the schedule to its first and last steps', () => {
    fc.assert(
      fc.property(deliveryId, fc.integer({ min: -5, max: 0 }), fc.integer({ min: RETRIES + 1, max: 50 }), (id, low, high) => {
        expect(webhookDelay(low, id)).toBeLessThan(baseOf(1) * 1.2);
        expect(webhookDelay(high, id)).toBeGreaterThanOrEqual(Math.floor(baseOf(RETRIES) * 0.8));
        expect(webhookDelay(high, id)).toBeLessThan(baseOf(RETRIES) * 1.2);
      }),
    );
  });

  it('never shortens the wait from one step to the next, jitter included', () => {
    // Where a step grows, it grows by at least 1.2 / 0.8, so no jitter can put it below the one before.
    for (let i = 1; i < RETRIES; i++) {
      expect(RETRY_DELAYS_MS[i]!).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i - 1]!);
      if (RETRY_DELAYS_MS[i]! > RETRY_DELAYS_MS[i - 1]!) expect(RETRY_DELAYS_MS[i]! * 0.8).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i - 1]! * 1.2);
    }
    fc.assert(
      fc.property(deliveryId, (id) => {
        for (let attempt = 2; attempt <= RETRIES; attempt++) {
          if (baseOf(attempt) > baseOf(attempt - 1)) expect(webhookDelay(attempt, id)).toBeGreaterThan(webhookDelay(attempt - 1, id));
        }
      }),
    );
  });

  it('spends every retry of a delivery within the schedule ±20 % (under 33 h 7 min in all)', () => {
    const limit = sum(RETRY_DELAYS_MS) * 1.2;
    expect(limit).toBeLessThan(33 * HOUR + 7 * 60_000);
    fc.assert(
      fc.property(deliveryId, (id) => {
        const total = sum(RETRY_DELAYS_MS.map((_, i) => webhookDelay(i + 1, id)));
        expect(total).toBeLessThan(limit);
        expect(total).toBeGreaterThanOrEqual(Math.floor(sum(RETRY_DELAYS_MS) * 0.8) - RETRIES);
      }),
    );
  });

  it('lets a longer Retry-After win, up to 24 h, and never a shorter one', () => {
    fc.assert(
      fc.property(deliveryId, retry, fc.integer({ min: 0, max: 10 * 24 * HOUR }), (id, attempt, retryAfterMs) => {
        const scheduled = webhookDelay(attempt, id);
        const d = webhookDelay(attempt, id, failedWith(retryAfterMs));
        expect(d).toBe(Math.max(scheduled, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS)));
        expect(d).toBeGreaterThanOrEqual(scheduled);
        expect(d).toBeLessThanOrEqual(Math.max(scheduled, MAX_RETRY_AFTER_MS));
      }),
    );
  });

  it('ignores a Retry-After that is missing, negative or not a number', () => {
    fc.assert(
      fc.property(deliveryId, retry, fc.oneof(fc.constant(undefined), fc.constant(Number.NaN), fc.integer({ max: -1 })), (id, attempt, retryAfterMs) => {
        expect(webhookDelay(attempt, id, failedWith(retryAfterMs))).toBe(webhookDelay(attempt, id));
      }),
    );
    expect(webhookDelay(1, 'x', new Error('an error from the job Lambda, no retryAfterMs'))).toBe(webhookDelay(1, 'x'));
  });

  it('reads Retry-After as seconds or as an HTTP date, never as a negative wait', () => {
    const now = Date.parse('2026-05-04T12:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (s) => {
        expect(parseRetryAfter(String(s), now)).toBe(s * 1000);
        expect(parseRetryAfter(` ${s} `, now)).toBe(s * 1000);
        expect(parseRetryAfter(new Date(now + s * 1000).toUTCString(), now)).toBe(s * 1000);
        expect(parseRetryAfter(new Date(now - s * 1000).toUTCString(), now)).toBe(0);
      }),
    );
    for (const v of [undefined, '', 'soon', 'in a minute']) expect(parseRetryAfter(v, now)).toBeUndefined();
  });
});

describe('webhook retry in BullMQ', () => {
  it('enqueues under the delivery id, with every attempt of the schedule and our backoff', () => {
    fc.assert(
      fc.property(deliveryId, (id) => {
        expect(deliveryJobOptions(id)).toEqual({ jobId: id, attempts: WEBHOOK_ATTEMPTS, backoff: { type: WEBHOOK_BACKOFF_TYPE } });
      }),
    );
  });

  it('makes the backoff strategy wait what the processor records: same key, same error', () => {
    fc.assert(
      fc.property(deliveryId, retry, fc.option(fc.nat({ max: 2 * MAX_RETRY_AFTER_MS })), (id, attempt, retryAfterMs) => {
        const err = failedWith(retryAfterMs ?? undefined);
        const job = { id: 'not-the-key', data: { deliveryId: id } } as MinimalJob;
        expect(webhookBackoffStrategy(attempt, WEBHOOK_BACKOFF_TYPE, err, job)).toBe(webhookDelay(attempt, id, err));
        // A job without a delivery id in its data falls back to its job id, which is the delivery id.
        expect(webhookBackoffStrategy(attempt, WEBHOOK_BACKOFF_TYPE, err, { id, data: {} } as MinimalJob)).toBe(webhookDelay(attempt, id, err));
      }),
    );
  });

  it('after a failure: the next attempt is the schedule from now, and the last attempt has none', () => {
    const now = Date.parse('2026-05-04T12:00:00Z');
    fc.assert(
      fc.property(deliveryId, fc.integer({ min: 0, max: WEBHOOK_ATTEMPTS + 2 }), (id, attemptsMade) => {
        const err = failedWith();
        const { last, nextAttemptAt } = afterFailure(attemptsMade, id, err, now);
        expect(last).toBe(attemptsMade + 1 >= WEBHOOK_ATTEMPTS);
        if (last) expect(nextAttemptAt).toBeNull();
        else expect(nextAttemptAt!.getTime()).toBe(now + webhookDelay(attemptsMade + 1, id, err));
      }),
    );
  });
});

describe('disabling a failing endpoint', () => {
  it('disables once the streak has lasted the configured hours, not a millisecond before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 30 }), fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }), (hours, first) => {
        const at = (ms: number) => new Date(first.getTime() + ms);
        expect(streakWarrantsDisable(first, at(hours * HOUR), hours)).toBe(true);
        expect(streakWarrantsDisable(first, at(hours * HOUR - 1), hours)).toBe(false);
        expect(streakWarrantsDisable(first, first, hours)).toBe(false);
      }),
    );
  });

  it('is monotonic: once a streak warrants disabling, every later failure of it does too', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 240 }), fc.nat({ max: 400 * HOUR }), fc.nat({ max: 400 * HOUR }), (hours, a, b) => {
        const first = new Date('2026-01-01T00:00:00Z');
        const [early, late] = [Math.min(a, b), Math.max(a, b)];
        if (streakWarrantsDisable(first, new Date(first.getTime() + early), hours)) {
          expect(streakWarrantsDisable(first, new Date(first.getTime() + late), hours)).toBe(true);
        }
      }),
    );
  });
});
