import { z } from 'zod';
import { cursor, limit } from '../../platform/pagination/cursor';
import { inSupportedRange, OFFSET_PATTERN, YEAR_RANGE_MESSAGE } from '../../platform/validation/time';
import { patchOf, text } from '../../platform/validation/common';

/**
 * Request schemas for professionals, their working hours and time off. They validate at the edge
 * (functions/http) and are exported so the OpenAPI document is generated from the same definitions.
 */

/** `?limit=&cursor=`: the keyset page of the professionals lists (lib/platform/pagination/cursor.ts). */
export const pageQuery = z.strictObject({ limit: limit(20), cursor: cursor.optional() });

/** Path parameters of the time-off item routes. */
export const timeOffParams = z.object({ id: z.uuid(), timeOffId: z.uuid() });

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

/** "HH:MM" as minutes from local midnight, the form the slot engine computes with; "24:00" (1440) lets a day end at midnight. */
export function parseHHMM(value: string): number {
  const m = HHMM.exec(value);
  if (!m) throw new Error(`not a time: ${value}`);
  return Number(m[1] ?? m[3]) * 60 + Number(m[2] ?? m[4]);
}

/** Minutes from local midnight as "HH:MM": the inverse of parseHHMM, so hours read back as they were written. */
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

/** An instant with an explicit offset (or Z), e.g. 2026-03-02T09:00:00-03:00: without one, each reader would place it elsewhere. */
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
