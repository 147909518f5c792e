import { z } from 'zod';

/**
 * How long each kind of record is kept, in days: the default, and the bounds a clinic may choose
 * within (`PATCH /v1/clinic` `retention`). The minimums keep what operations still need (a retry,
 * a replay, a support question); the maximums keep nothing forever. docs/OPERATIONS.md has the
 * table with the reasons; the purge (./rules.ts) applies the same bounds in SQL, so a value written
 * around the API cannot purge sooner than the minimum.
 */
export const RETENTION_DAYS = {
  /** Outbox events already processed (their payloads name the records they concern). */
  outboxEventsDays: { default: 30, min: 1, max: 3_650 },
  /** Webhook attempts' error text and response excerpts (a receiver may echo the payload). */
  webhookAttemptDetailsDays: { default: 7, min: 1, max: 3_650 },
  /** Finished webhook deliveries (delivered or failed: no longer replayable), with their attempts. */
  webhookDeliveriesDays: { default: 90, min: 7, max: 3_650 },
  /** A notice's last error text (an SMTP server's answer). */
  notificationErrorsDays: { default: 30, min: 1, max: 3_650 },
  /** Notices no longer pending (sent, skipped, failed): the clinic's "was the patient told?" */
  notificationsDays: { default: 365, min: 7, max: 3_650 },
  /**
   * Audit events (who saw or changed a patient's data): kept longest. At least 6 months (Marco Civil, art. 15, for access logs); 5 years by default.
   */
  auditEventsDays: { default: 1_825, min: 183, max: 7_300 },
} as const;

/** A kind of record with a retention setting. */
export type RetentionKey = keyof typeof RETENTION_DAYS;

/** Every setting resolved: what the purge applies and `GET /v1/clinic` shows. */
export type Retention = Record<RetentionKey, number>;

const KEYS = Object.keys(RETENTION_DAYS) as RetentionKey[];

const days = (key: RetentionKey) => z.number().int().min(RETENTION_DAYS[key].min).max(RETENTION_DAYS[key].max);

/**
 * `retention` in `PATCH /v1/clinic`: any subset of the settings, in days within their bounds;
 * `null` returns one to its default. Keys not sent keep their stored value.
 */
export const retentionPatchSchema = z
  .strictObject(Object.fromEntries(KEYS.map((k) => [k, days(k).nullable().optional()])) as {
    [K in RetentionKey]: z.ZodOptional<z.ZodNullable<ReturnType<typeof days>>>;
  })
  .refine((v) => Object.keys(v).length > 0, 'at least one retention setting');
export type RetentionPatch = z.infer<typeof retentionPatchSchema>;

/** The stored settings (the clinic's `retention` column) with a patch applied: nulls removed. */
export function mergeRetention(stored: unknown, patch: RetentionPatch): Partial<Retention> {
  const merged: Record<string, number> = { ...storedSettings(stored) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete merged[k];
    else if (v !== undefined) merged[k] = v;
  }
  return merged;
}

/** The clinic's settings with defaults for what it did not choose; a stored value out of bounds is clamped. */
export function effectiveRetention(stored: unknown): Retention {
  const chosen = storedSettings(stored);
  return Object.fromEntries(
    KEYS.map((k) => {
      const { default: d, min, max } = RETENTION_DAYS[k];
      return [k, Math.min(max, Math.max(min, Math.round(chosen[k] ?? d)))];
    }),
  ) as Retention;
}

function storedSettings(stored: unknown): Partial<Retention> {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return {};
  const out: Partial<Retention> = {};
  for (const k of KEYS) {
    const v = (stored as Record<string, unknown>)[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}
