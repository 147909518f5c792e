import { z } from 'zod';
import { cursor, limit } from '../../platform/pagination/cursor';
import { patchOf, text } from '../../platform/validation/common';

/**
 * Request schemas for patients. They validate at the edge (functions/http) and are exported so the
 * OpenAPI document is generated from the same definitions.
 */

/** E.164-ish: "+" and 8 to 15 digits; spaces, dots, hyphens and parentheses are dropped first. */
export const phone = z
  .string()
  .max(40)
  .transform((s) => s.replace(/[\s().-]/g, ''))
  .pipe(z.string().regex(/^\+\d{8,15}$/, { message: 'must be a phone number in international format, e.g. +5511912345678' }));

/** A calendar date YYYY-MM-DD that exists (2026-02-30 does not), not in the future. */
export const birthDate = z.iso
  .date({ message: 'must be a real date as YYYY-MM-DD' })
  .refine((s) => s >= '1900-01-01', { message: 'must be on or after 1900-01-01' })
  .refine((s) => s <= new Date().toISOString().slice(0, 10), { message: 'must not be in the future' });

/** The languages notices are written in: a patient's locale picks the templates. */
export const patientLocale = z.enum(['pt-BR', 'en']);

const patientFields = {
  name: text(200),
  email: z.email({ message: 'must be a valid e-mail address' }).max(254).nullable(),
  phone: phone.nullable(),
  birthDate: birthDate.nullable(),
  locale: patientLocale,
  notifyEmail: z.boolean(),
  notifyInApp: z.boolean(),
};

/** POST /v1/patients */
export const createPatientBody = z.strictObject({
  name: patientFields.name,
  email: patientFields.email.optional(),
  phone: patientFields.phone.optional(),
  birthDate: patientFields.birthDate.optional(),
  locale: patientLocale.optional(),
  notifyEmail: z.boolean().optional(),
  notifyInApp: z.boolean().optional(),
});
export type CreatePatientInput = z.infer<typeof createPatientBody>;

/** PATCH /v1/patients/{id}: any subset, at least one; null clears email, phone or birthDate. */
export const updatePatientBody = patchOf(patientFields);
export type UpdatePatientInput = z.infer<typeof updatePatientBody>;

/**
 * GET /v1/patients: `?limit=&cursor=&q=&email=` (q: part of the name, case-insensitive; email: the
 * whole address, any case, matched by its keyed hash since the column is encrypted).
 */
export const listPatientsQuery = z.strictObject({
  limit: limit(20),
  cursor: cursor.optional(),
  q: text(100).optional(),
  email: patientFields.email.unwrap().optional(),
});
