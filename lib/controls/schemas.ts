import { DateTime } from 'luxon';
import { z } from 'zod';
import { inSupportedRange, OFFSET_PATTERN, YEAR_RANGE_MESSAGE } from '../validation/time';
import { cursor, limit } from '../pagination/cursor';
import { text } from '../validation/common';

/** A calendar date (YYYY-MM-DD) that exists, e.g. not 2026-02-30. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((s) => DateTime.fromISO(s).isValid, { message: 'not a valid date' });

/** An ISO 8601 date-time with an explicit offset (Z or ±hh:mm), and a real instant. */
export const isoDateTime = z
  .string()
  .max(40)
  .regex(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?${OFFSET_PATTERN}$`), {
    message: 'must be an ISO 8601 date-time with an offset, e.g. 2026-03-10T14:30:00-03:00',
  })
  .refine((s) => DateTime.fromISO(s, { setZone: true }).isValid, { message: 'not a valid date-time' })
  .refine((s) => inSupportedRange(new Date(s)), { message: YEAR_RANGE_MESSAGE });

export const createControlSchema = z.strictObject({
  patientId: z.uuid(),
  professionalId: z.uuid().optional(),
  specialty: text(100).optional(),
  sessionsTotal: z.number().int().min(1).max(200),
  /** A date (valid through the end of that day in the clinic's zone) or a date-time with offset. */
  validUntil: z.union([isoDate, isoDateTime], { error: 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time with offset' }),
  renewalPolicy: z.enum(['manual', 'automatic']).default('manual'),
});
export type CreateControlInput = z.infer<typeof createControlSchema>;

export const listControlsSchema = z.strictObject({
  patientId: z.uuid().optional(),
  status: z.enum(['active', 'exhausted', 'expired', 'renewed']).optional(),
  cursor: cursor.optional(),
  limit: limit(50),
});
export type ListControlsInput = z.infer<typeof listControlsSchema>;
