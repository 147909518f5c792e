import { z } from 'zod';
import { patchOf, text, timeZone } from '../../platform/validation/common';
import { scopesSchema } from './scopes';
import { DEFAULT_ZONE } from './zone';
import { retentionPatchSchema } from '../retention/policy';

const reminderOffsetsMinutes = z.array(z.number().int().min(5).max(60 * 24 * 14)).max(5);

export const createClinicSchema = z.strictObject({
  name: text(200),
  timeZone: timeZone.default(DEFAULT_ZONE),
  reminderOffsetsMinutes: reminderOffsetsMinutes.optional(),
});

/**
 * PATCH /v1/clinic: any subset, at least one. The time zone is not here: working hours and booked
 * times are read in it, so moving a clinic to another zone is an operation of its own.
 */
export const updateClinicSchema = patchOf({
  name: text(200),
  reminderOffsetsMinutes,
  /** Minutes after an appointment's end before an open one becomes no-show; null turns it off. */
  autoNoShowAfterMinutes: z.number().int().min(0).max(60 * 24 * 3).nullable(),
  /** Days each kind of record is kept (lib/domain/retention/policy.ts); a subset, null = default. */
  retention: retentionPatchSchema,
});
export type UpdateClinicInput = z.infer<typeof updateClinicSchema>;

/** POST /v1/api-keys: `scopes` defaults to read and write, and must be a subset of the caller's. */
export const createApiKeySchema = z.strictObject({ name: text(100), scopes: scopesSchema.optional() });
