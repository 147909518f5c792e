import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import { getAgendaQueue } from '../../platform/queues/queues';

/** Statuses in which an appointment still gets reminders. */
export const ACTIVE_STATUSES = ['scheduled', 'confirmed'];

/** The deterministic job id of one reminder: one per appointment and offset. */
export const reminderJobId = (appointmentId: string, offsetMinutes: number) => `reminder:${appointmentId}:${offsetMinutes}`;

export interface ReminderTarget {
  id: string;
  status: string;
  startsAt: Date;
}

/**
 * Makes the `agenda` queue hold exactly the reminders the appointment's current state calls for:
 * one delayed `appointment.reminder` per offset whose time has not passed, for an active
 * appointment. A job for another start time (the appointment moved) is removed and added again; a
 * cancelled or finished appointment loses its pending reminders. Run by the `domain.event`
 * processor for every appointment event, never on the request path (which only publishes the
 * event). Idempotent: a retried or re-driven event leaves the same jobs.
 */
export async function syncReminders(appointmentId: string, now = new Date()): Promise<{ added: number; removed: number }> {
  const db = await getDb();
  const appt = await db.appointment.findUnique({
    where: { id: appointmentId },
    select: { id: true, status: true, startsAt: true, clinic: { select: { reminderOffsetsMinutes: true } } },
  });
  const offsets = appt?.clinic.reminderOffsetsMinutes ?? [];
  if (!appt) return { added: 0, removed: 0 };
  return applyReminders(appt, offsets, now);
}

async function applyReminders(appt: ReminderTarget, offsets: number[], now: Date) {
  const queue = await getAgendaQueue();
  const active = ACTIVE_STATUSES.includes(appt.status);
  const startsAt = appt.startsAt.toISOString();
  let added = 0;
  let removed = 0;
  for (const offsetMinutes of new Set(offsets)) {
    const jobId = reminderJobId(appt.id, offsetMinutes);
    const delay = appt.startsAt.getTime() - offsetMinutes * 60_000 - now.getTime();
    const wanted = active && delay > 0;
    const existing = await queue.getJob(jobId);
    if (existing) {
      const sameStart = (existing.data as { startsAt?: string }).startsAt === startsAt;
      // Same start time: keep a pending job while wanted, and a job that already ran as a record.
      if (sameStart && active) continue;
      if (sameStart && ['completed', 'failed', 'active'].includes(await existing.getState())) continue;
      // Another start time (moved) or no longer active: the job goes, so its id can be reused.
      try {
        await existing.remove();
        removed += 1;
      } catch (err) {
        // A reminder being processed right now is locked; it re-checks the appointment itself.
        logger.warn('reminder.remove_failed', { jobId, error: (err as Error).message });
        continue;
      }
    }
    if (wanted) {
      await queue.add('appointment.reminder', { appointmentId: appt.id, offsetMinutes, startsAt }, { jobId, delay });
      added += 1;
    }
  }
  if (added || removed) logger.info('reminders.synced', { appointmentId: appt.id, added, removed });
  return { added, removed };
}

/** Upcoming appointments re-synced per page by `resyncClinicReminders`. */
const RESYNC_PAGE = 200;

/**
 * Re-syncs the reminders of every upcoming active appointment of a clinic, after its reminder
 * offsets changed (`clinic.updated`): jobs for the new offsets are added. Jobs for offsets no longer
 * listed cannot be found by id without knowing the old list; they are skipped when they come due
 * (lib/jobs/processors/appointment-reminder.ts). Pages over ids only and syncs each appointment from its current
 * row, so one moved meanwhile keeps its new time. Idempotent, like `syncReminders`.
 */
export async function resyncClinicReminders(clinicId: string, now = new Date()): Promise<{ appointments: number; added: number; removed: number }> {
  const db = await getDb();
  const total = { appointments: 0, added: 0, removed: 0 };
  let cursor: string | undefined;
  for (;;) {
    const page = await db.appointment.findMany({
      where: { clinicId, status: { in: ACTIVE_STATUSES }, startsAt: { gt: now }, ...(cursor && { id: { gt: cursor } }) },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: RESYNC_PAGE,
    });
    if (page.length === 0) break;
    cursor = page[page.length - 1]!.id;
    for (const { id } of page) {
      const r = await syncReminders(id, now);
      total.appointments += 1;
      total.added += r.added;
      total.removed += r.removed;
    }
  }
  logger.info('reminders.clinic_resynced', { clinicId, ...total });
  return total;
}
