import { getDb } from '../../platform/db/client';
import { recipientSelect, recordNotices } from './record';

/**
 * Creates and enqueues the reminder notices of one due `appointment.reminder` job. The offset and
 * start time make each reminder its own notice, so a re-run of the job sends nothing twice.
 */
export async function notifyReminder(appointmentId: string, offsetMinutes: number, startsAtIso: string): Promise<string[]> {
  const db = await getDb();
  const appt = await db.appointment.findUnique({
    where: { id: appointmentId },
    select: { id: true, clinicId: true, patientId: true, patient: { select: recipientSelect } },
  });
  if (!appt) return [];
  const startsAt = new Date(startsAtIso);
  return recordNotices(
    {
      clinicId: appt.clinicId,
      patientId: appt.patientId,
      appointmentId: appt.id,
      kind: 'reminder',
      startsAt,
      subjectId: appt.id,
      discriminator: `${offsetMinutes}:${startsAt.toISOString()}`,
    },
    appt.patient,
  );
}
