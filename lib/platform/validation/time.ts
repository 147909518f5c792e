import { DateTime } from 'luxon';
import { z } from 'zod';

/**
 * Instants the product accepts: a clinic schedules within living memory and the near future, and
 * PostgreSQL cannot store every year JavaScript can (year 0, 4714 BC...). Checked on every parsed
 * instant so such input is a 400 on its field, never a database error.
 */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2200;
export const YEAR_RANGE_MESSAGE = `must be between the years ${MIN_YEAR} and ${MAX_YEAR}`;

export function inSupportedRange(d: Date): boolean {
  const year = d.getUTCFullYear();
  return !Number.isNaN(d.getTime()) && year >= MIN_YEAR && year <= MAX_YEAR;
}

/** A UTC offset as ISO-8601 writes it, within the ±14:00 that exists on Earth. */
export const OFFSET_PATTERN = '(?:Z|[+-](?:0\\d|1[0-4]):?[0-5]\\d)';

/** An ISO 8601 date-time with an explicit offset (Z or ±hh:mm), and a real instant. */
export const isoDateTime = z
  .string()
  .max(40)
  .regex(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?${OFFSET_PATTERN}$`), {
    message: 'must be an ISO 8601 date-time with an offset, e.g. 2026-03-10T14:30:00-03:00',
  })
  .refine((s) => DateTime.fromISO(s, { setZone: true }).isValid, { message: 'not a valid date-time' })
  .refine((s) => inSupportedRange(new Date(s)), { message: YEAR_RANGE_MESSAGE });
