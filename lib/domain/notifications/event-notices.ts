import { getDb } from '../../platform/db/client';
import { recipientSelect, recordNotices } from './record';
import type { NotificationKind } from './templates';

/** Domain events that notify the patient, and the notice each one sends. */
export const EVENT_NOTIFICATIONS: Partial<Record<string, NotificationKind>> = {
  'appointment.created': 'confirmation',
  'appointment.rescheduled': 'reschedule',
  'appointment.cancelled': 'cancellation',
  'control.renewal_requested': 'renewal',
};

/**
 * Creates the notices a domain event calls for (confirmation, reschedule, cancellation, renewal)
 * and enqueues their e-mails. Other events, or a record gone since, notify nobody. Idempotent, so
 * a retried or re-driven event sends nothing twice.
 */
export async function notifyForEvent(event: { id: string; clinicId: string; type: string; aggregateId: string; payload: unknown }): Promise<string[]> {
  const kind = EVENT_NOTIFICATIONS[event.type];
  if (!kind) return [];
  const db = await getDb();
  const payload = (event.payload && typeof event.payload === 'object' ? event.payload : {}) as Record<string, unknown>;
  if (kind === 'renewal') {
    const control = await db.appointmentControl.findFirst({
      where: { id: event.aggregateId, clinicId: event.clinicId },
      select: { id: true, patientId: true, patient: { select: recipientSelect } },
    });
    if (!control) return [];
    const requestId = typeof payload.requestId === 'string' ? payload.requestId : event.id;
    return recordNotices(
      { clinicId: event.clinicId, patientId: control.patientId, controlId: control.id, kind, subjectId: control.id, discriminator: requestId },
      control.patient,
    );
  }
  const appt = await db.appointment.findFirst({
    where: { id: event.aggregateId, clinicId: event.clinicId },
    select: { id: true, patientId: true, startsAt: true, patient: { select: recipientSelect } },
  });
  if (!appt) return [];
  // The start time the event was about (a later move has its own event and notice).
  const startsAt = typeof payload.startsAt === 'string' ? new Date(payload.startsAt) : appt.startsAt;
  return recordNotices(
    {
      clinicId: event.clinicId,
      patientId: appt.patientId,
      appointmentId: appt.id,
      kind,
      startsAt,
      subjectId: appt.id,
      discriminator: kind === 'reschedule' ? event.id : startsAt.toISOString(),
    },
    appt.patient,
  );
}
