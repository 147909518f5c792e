import { DateTime } from 'luxon';
import { z } from 'zod';
import { inSupportedRange, OFFSET_PATTERN, YEAR_RANGE_MESSAGE } from '../../platform/validation/time';

/** The longest range one request may ask for. */
export const MAX_RANGE_DAYS = 62;
/** Bounds of a slot's and an appointment's duration, in minutes (the no-show sweep's query relies on the maximum). */
export const MIN_DURATION = 5;
export const MAX_DURATION = 720;

const ISO = new RegExp(`^(\\d{4})-(\\d{2})-(\\d{2})(?:T(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.\\d{1,9})?)?(${OFFSET_PATTERN})?)?$`);

/**
 * An ISO-8601 date or date-time query value as an instant. A date is local midnight in `zone` (the
 * day's first instant when midnight is skipped by DST); a date-time without an offset is a local
 * time in `zone` and must exist there (not inside a DST gap).
 */
const instant = (zone: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .transform((value, ctx): Date => {
      const m = ISO.exec(value);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date (2026-03-02) or date-time (2026-03-02T09:00:00-03:00)' });
        return z.NEVER;
      }
      const dt = DateTime.fromISO(value, { zone });
      if (!dt.isValid) {
        ctx.addIssue({ code: 'custom', message: `is not a valid ${m[4] ? 'date-time' : 'date'} (${dt.invalidExplanation ?? dt.invalidReason})` });
        return z.NEVER;
      }
      if (m[4] && !m[7] && (dt.hour !== Number(m[4]) || dt.minute !== Number(m[5]))) {
        ctx.addIssue({ code: 'custom', message: `local time ${m[4]}:${m[5]} does not exist in ${zone} on that date (DST gap)` });
        return z.NEVER;
      }
      const at = m[4] ? dt.toJSDate() : dt.startOf('day').toJSDate();
      if (!inSupportedRange(at)) {
        ctx.addIssue({ code: 'custom', message: YEAR_RANGE_MESSAGE });
        return z.NEVER;
      }
      return at;
    });

/** The slots query, validated in the clinic's zone (a date means local midnight there). */
export const slotsQuery = (zone: string) =>
  z
    .object({
      from: instant(zone),
      to: instant(zone),
      duration: z
        .string()
        .regex(/^\d{1,4}$/, { message: 'must be a whole number of minutes' })
        .transform(Number)
        .pipe(
          z
            .number()
            .min(MIN_DURATION, { message: `must be at least ${MIN_DURATION} minutes` })
            .max(MAX_DURATION, { message: `must be at most ${MAX_DURATION} minutes` }),
        )
        .optional(),
    })
    .superRefine((q, ctx) => {
      if (!(q.from instanceof Date) || !(q.to instanceof Date)) return;
      if (q.to <= q.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
      else if (q.to.getTime() - q.from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: `range must be at most ${MAX_RANGE_DAYS} days` });
      }
    });
