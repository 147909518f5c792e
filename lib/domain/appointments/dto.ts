import type { Appointment, AppointmentHistory } from '../../platform/db/generated/client';
import { minutesBetween } from './timing';

/** The caller's clinic, as the HTTP layer resolved it from the API key. */
export interface ClinicScope {
  clinicId: string;
  timeZone: string;
}

/**
 * The one shape every appointment operation answers with. The length is derived, never stored, so
 * it cannot disagree with the times; the history comes only with a single read, where it is wanted.
 */
export function toAppointmentDto(a: Appointment, history?: AppointmentHistory[]) {
  return {
    id: a.id,
    professionalId: a.professionalId,
    patientId: a.patientId,
    controlId: a.controlId,
    startsAt: a.startsAt.toISOString(),
    endsAt: a.endsAt.toISOString(),
    durationMinutes: minutesBetween(a.startsAt, a.endsAt),
    blockStartsAt: a.blockStartsAt.toISOString(),
    blockEndsAt: a.blockEndsAt.toISOString(),
    status: a.status,
    cancelReason: a.cancelReason,
    notes: a.notes,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    ...(history && {
      history: history.map((h) => ({
        action: h.action,
        fromStatus: h.fromStatus,
        toStatus: h.toStatus,
        previousStartsAt: h.previousStartsAt?.toISOString() ?? null,
        previousEndsAt: h.previousEndsAt?.toISOString() ?? null,
        reason: h.reason,
        at: h.createdAt.toISOString(),
      })),
    }),
  };
}
/** What every appointment operation returns. */
export type AppointmentDto = ReturnType<typeof toAppointmentDto>;
