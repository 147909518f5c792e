import { getDb } from '../db/client';
import type { JobContext } from '../jobs/registry';
import { logger } from '../observability/logger';
import { ACTIVE_STATUSES } from './reminders';

export type ReminderOutcome =
  | { appointmentId: string; offsetMinutes: number; due: true }
  | { appointmentId: string; offsetMinutes: number; skipped: 'appointment_missing' | 'not_active' | 'moved' };

/**
 * `appointment.reminder`: fires only when the appointment still exists, is active and still starts
 * when the job was scheduled for; otherwise it skips (a stale job left by a failed removal).
 * Delivery (e-mail, in-app) is issue #4; this records that the reminder is due.
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
  else outcome = { ...base, due: true };
  logger.info('reminder.processed', { jobId: job.id, ...outcome });
  return outcome;
}
