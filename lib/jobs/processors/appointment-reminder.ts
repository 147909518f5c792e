import { getDb } from '../../platform/db/client';
import type { JobContext } from '../../platform/queues/context';
import { logger } from '../../platform/observability/logger';
import { deliverAppointmentNotices } from '../../domain/notifications/in-app-live';
import { notifyReminder } from '../../domain/notifications/reminder-notices';
import { staleReason } from '../../domain/notifications/stale';

export type ReminderOutcome =
  | { appointmentId: string; offsetMinutes: number; due: true; notifications: string[] }
  | { appointmentId: string; offsetMinutes: number; skipped: 'appointment_missing' | 'not_active' | 'moved' | 'offset_removed' };

/**
 * `appointment.reminder`: fires only when the appointment still exists, is active and still starts
 * when the job was scheduled for (the notices' own stale rule), and the clinic still lists its
 * offset; otherwise it skips (a stale job left by a failed removal, or an offset the clinic
 * removed). When due it records the reminder notices and enqueues their e-mails (unique per
 * appointment, channel, offset and start time, so a re-run sends nothing twice), then pushes the
 * in-app one to the sockets already subscribed.
 */
export async function processReminder(job: JobContext<'agenda', 'appointment.reminder'>): Promise<ReminderOutcome> {
  const { appointmentId, offsetMinutes, startsAt } = job.data;
  const db = await getDb();
  const appointment = await db.appointment.findUnique({
    where: { id: appointmentId },
    select: { clinicId: true, status: true, startsAt: true, clinic: { select: { reminderOffsetsMinutes: true } } },
  });
  const base = { appointmentId, offsetMinutes };
  const stale =
    staleReason({ kind: 'reminder', startsAt: new Date(startsAt), appointment, control: null }) ??
    (appointment!.clinic.reminderOffsetsMinutes.includes(offsetMinutes) ? null : 'offset_removed');
  let outcome: ReminderOutcome;
  if (stale) outcome = { ...base, skipped: stale as 'appointment_missing' | 'not_active' | 'moved' | 'offset_removed' };
  else outcome = { ...base, due: true, notifications: await notifyReminder(appointmentId, offsetMinutes, startsAt) };
  logger.info('reminder.processed', { jobId: job.id, ...outcome });
  if (appointment && !stale) await pushLive(appointment.clinicId, appointmentId);
  return outcome;
}

/** Best effort: a failed push leaves the notice pending for the next subscribe, never fails the reminder. */
async function pushLive(clinicId: string, appointmentId: string): Promise<void> {
  try {
    await deliverAppointmentNotices(clinicId, appointmentId);
  } catch (err) {
    logger.warn('reminder.in_app_push_failed', { appointmentId, error: (err as Error).message });
  }
}
