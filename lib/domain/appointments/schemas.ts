import { z } from 'zod';
import { MAX_DURATION, MIN_DURATION } from '../availability/query';
import { cursor, limit } from '../../platform/pagination/cursor';
import { isoDateTime } from '../../platform/validation/time';
import { text } from '../../platform/validation/common';


export const APPOINTMENT_STATUSES = ['scheduled', 'confirmed', 'completed', 'no_show', 'cancelled'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

const duration = z.number().int().min(MIN_DURATION).max(MAX_DURATION);

export const createAppointmentSchema = z.strictObject({
  professionalId: z.uuid(),
  patientId: z.uuid(),
  startsAt: isoDateTime,
  /** Defaults to the professional's default duration. */
  durationMinutes: duration.optional(),
  controlId: z.uuid().optional(),
  notes: text(2000).optional(),
});
export type CreateAppointmentInput = z.infer<typeof createAppointmentSchema>;

export const rescheduleSchema = z.strictObject({
  startsAt: isoDateTime,
  /** Defaults to the appointment's current duration. */
  durationMinutes: duration.optional(),
});
export type RescheduleInput = z.infer<typeof rescheduleSchema>;

export const cancelSchema = z.strictObject({ reason: text(500) });

export const listAppointmentsSchema = z
  .strictObject({
    professionalId: z.uuid().optional(),
    patientId: z.uuid().optional(),
    status: z.enum(APPOINTMENT_STATUSES).optional(),
    /** Appointments starting at or after this instant. */
    from: isoDateTime.optional(),
    /** Appointments starting before this instant. */
    to: isoDateTime.optional(),
    cursor: cursor.optional(),
    limit: limit(50),
  })
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), { message: 'must be after from', path: ['to'] });
export type ListAppointmentsInput = z.infer<typeof listAppointmentsSchema>;
