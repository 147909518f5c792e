import { z } from 'zod';
import { cursor, limit } from '../pagination/cursor';
import { inSupportedRange, OFFSET_PATTERN, YEAR_RANGE_MESSAGE } from '../validation/time';
import { patchOf, text } from '../validation/common';

/**
 * Request schemas for professionals and patients. They validate at the edge (functions/http) and
 * are exported so the OpenAPI document can be generated from the same definitions.
 */

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/** `?limit=&cursor=`: keyset pagination shared by every list (lib/pagination/cursor.ts). */
export const pageQuery = z.strictObject({ limit: limit(20), cursor: cursor.optional() });

/** Path parameters of the time-off item routes. */
export const timeOffParams = z.object({ id: z.uuid(), timeOffId: z.uuid() });

// ---------------------------------------------------------------------------------------------
// Professionals
// ---------------------------------------------------------------------------------------------

/** Appointment length, 5 minutes to 8 hours. */
export const durationMinutes = z.number().int().min(5).max(480);
/** Time blocked before or after an appointment, 0 to 4 hours. */
export const bufferMinutes = z.number().int().min(0).max(240);
/** Distance between candidate slot starts, 5 minutes to 4 hours. */
export const slotStepMinutes = z.number().int().min(5).max(240);

const professionalFields = {
  name: text(200),
  specialty: text(200).nullable(),
  defaultDurationMinutes: durationMinutes,
  bufferBeforeMinutes: bufferMinutes,
  bufferAfterMinutes: bufferMinutes,
  slotStepMinutes,
  active: z.boolean(),
};

/** POST /v1/professionals */
export const createProfessionalBody = z.strictObject({
  name: professionalFields.name,
  specialty: professionalFields.specialty.optional(),
  defaultDurationMinutes: durationMinutes.optional(),
  bufferBeforeMinutes: bufferMinutes.optional(),
  bufferAfterMinutes: bufferMinutes.optional(),
  slotStepMinutes: slotStepMinutes.optional(),
  active: z.boolean().optional(),
});
export type CreateProfessionalInput = z.infer<typeof createProfessionalBody>;

/** PATCH /v1/professionals/{id}: any subset of the fields, at least one. */
export const updateProfessionalBody = patchOf(professionalFields);
export type UpdateProfessionalInput = z.infer<typeof updateProfessionalBody>;

/** GET /v1/professionals: `?limit=&cursor=&active=` */
export const listProfessionalsQuery = pageQuery.extend({
  active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

const HHMM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

/** "HH:MM" as minutes from local midnight ("24:00" is 1440). */
export function parseHHMM(value: string): number {
  const m = HHMM.exec(value);
  if (!m) throw new Error(`not a time: ${value}`);
  return Number(m[1] ?? m[3]) * 60 + Number(m[2] ?? m[4]);
}

/** Minutes from local midnight as "HH:MM". */
export function formatHHMM(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const clockTime = z.string().regex(HHMM, { message: 'must be a time as HH:MM (00:00 to 24:00)' });

/** One weekly working interval, local time in the clinic's zone; weekday 0 = Sunday. */
export const workingInterval = z
  .strictObject({
    weekday: z.number().int().min(0).max(6),
    start: clockTime.refine((s) => s !== '24:00', { message: 'a working interval cannot start at 24:00' }),
    end: clockTime,
  })
  .refine((i) => !HHMM.test(i.start) || !HHMM.test(i.end) || parseHHMM(i.end) > parseHHMM(i.start), {
    message: 'end must be after start',
    path: ['end'],
  });

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * PUT /v1/professionals/{id}/working-hours: the whole weekly schedule, replacing the previous one.
 * Several intervals a day are allowed; intervals of one weekday must not overlap (touching is fine).
 */
export const workingHoursBody = z
  .array(workingInterval)
  .max(168)
  .superRefine((items, ctx) => {
    // Zod runs this even when an item failed above; overlaps are only judged between valid items.
    const parsed = items
      .map((item, index) => ({ index, item }))
      .filter(({ item }) => item && typeof item === 'object' && HHMM.test(String(item.start)) && HHMM.test(String(item.end)))
      .map(({ index, item }) => ({ index, weekday: item.weekday, start: parseHHMM(item.start), end: parseHHMM(item.end) }));
    parsed.sort((a, b) => a.weekday - b.weekday || a.start - b.start || a.index - b.index);
    for (let i = 1; i < parsed.length; i++) {
      const prev = parsed[i - 1]!;
      const cur = parsed[i]!;
      if (cur.weekday === prev.weekday && cur.start < prev.end) {
        const [first, second] = prev.index < cur.index ? [prev, cur] : [cur, prev];
        ctx.addIssue({
          code: 'custom',
          path: [second.index],
          message: `overlaps item ${first.index} on ${WEEKDAYS[cur.weekday]}`,
        });
      }
    }
  });
export type WorkingHoursInput = z.infer<typeof workingHoursBody>;

/** An instant with an explicit offset (or Z), e.g. 2026-03-02T09:00:00-03:00. */
export const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time with an offset, e.g. 2026-03-02T09:00:00-03:00' })
  .regex(new RegExp(`${OFFSET_PATTERN}$`), { message: 'the UTC offset must be within ±14:00' })
  .transform((s) => new Date(s))
  .refine(inSupportedRange, { message: YEAR_RANGE_MESSAGE });

/** The longest time off accepted in one request. */
export const MAX_TIME_OFF_DAYS = 366;

/** POST /v1/professionals/{id}/time-off */
export const createTimeOffBody = z
  .strictObject({ startsAt: instant, endsAt: instant, reason: text(500).nullable().optional() })
  .superRefine((o, ctx) => {
    // Zod runs this even when a field failed above; only compare two real instants.
    if (!(o.startsAt instanceof Date) || !(o.endsAt instanceof Date)) return;
    if (o.endsAt.getTime() <= o.startsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    } else if (o.endsAt.getTime() - o.startsAt.getTime() > MAX_TIME_OFF_DAYS * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: `time off may last at most ${MAX_TIME_OFF_DAYS} days` });
    }
  });
export type CreateTimeOffInput = z.infer<typeof createTimeOffBody>;

// ---------------------------------------------------------------------------------------------
// Patients
// ---------------------------------------------------------------------------------------------

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

/** GET /v1/patients: `?limit=&cursor=&q=` (q: part of the name, case-insensitive). */
export const listPatientsQuery = pageQuery.extend({ q: text(100).optional() });
