import { DateTime } from 'luxon';
import { z } from 'zod';
import { isoDateTime } from '../../platform/validation/time';
import { cursor, limit } from '../../platform/pagination/cursor';
import { text } from '../../platform/validation/common';

/** A calendar date (YYYY-MM-DD) that exists, e.g. not 2026-02-30. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((s) => DateTime.fromISO(s).isValid, { message: 'not a valid date' });

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
