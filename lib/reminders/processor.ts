import { getDb } from '../db/client';
import type { JobContext } from '../jobs/registry';
import { logger } from '../observability/logger';
import { notifyReminder } from '../notifications/notifications';
import { ACTIVE_STATUSES } from './reminders';

export type ReminderOutcome =
  | { appointmentId: string; offsetMinutes: number; due: true; notifications: string[] }
  | { appointmentId: string; offsetMinutes: number; skipped: 'appointment_missing' | 'not_active' | 'moved' };

/**
 * `appointment.reminder`: fires only when the appointment still exists, is active and still starts
 * when the job was scheduled for; otherwise it skips (a stale job left by a failed removal).
 * When due it records the reminder notices and enqueues their e-mails (lib/notifications; unique
 * per appointment, channel, offset and start time, so a re-run sends nothing twice).
 */
export async function processReminder(job: JobContext<'agenda', 'appointment.reminder'>): Promise<ReminderOutcome> {
  const { appointmentId, offsetMinutes, startsAt } = job.data;
  const db = await getDb();
  const appt = await db.appointment.findUnique({ where: { id: appointmentId }, select: { status: true, startsAt: true } });
  const base = { appointmentId, offsetMinutes };
  let outcome: ReminderOutcome;
  if (!appt) outcome = { ...base, skipped: 'appointment_missing' };
  else if (!ACTIVE_STATUSES.includes(appt.status)) outcome = { ...base, skipped: 'not_active' };
  else if (appt.startsAt.toISOString() !== new Date(startsAt).toISOString()) outcome = { ...base, skipped: 'moved' };
  else outcome = { ...base, due: true, notifications: await notifyReminder(appointmentId, offsetMinutes, startsAt) };
  logger.info('reminder.processed', { jobId: job.id, ...outcome });
  return outcome;
}
