import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { NotFoundError, RuleViolationError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { MAX_DURATION } from '../availability/query';
import { transitionAppointment } from './status';

/** The longest appointment the API books: the sweep reads by start time (indexed), then filters by end. */
const MAX_APPOINTMENT_MS = MAX_DURATION * 60_000;

/** What one sweep did, for the job's result and the log. */
export interface NoShowSweepResult {
  clinics: number;
  found: number;
  marked: number;
  skipped: number;
}

/**
 * Marks appointments still scheduled or confirmed `autoNoShowAfterMinutes` after their end as
 * no-show, for the clinics that turned the setting on. Each one goes through the same transition as
 * `POST /v1/appointments/{id}/no-show` (row lock, history with the reason, `appointment.no_show`
 * event), so webhooks and live updates follow. One changed by hand meanwhile is skipped, and a
 * second sweep finds nothing left: it is safe to run twice or on two workers. Appointments due
 * (end + delay) more than NO_SHOW_LOOKBACK_HOURS ago are left alone, so turning the setting on
 * never rewrites a clinic's old agenda that was simply never closed; counted from the due time, the
 * window is the same length whatever the clinic's delay.
 */
export async function sweepNoShows(now = new Date(), limitPerClinic = 500): Promise<NoShowSweepResult> {
  const db = await getDb();
  const lookbackMs = getConfig().noShowLookbackHours * 3_600_000;
  const clinics = await db.clinic.findMany({
    where: { autoNoShowAfterMinutes: { not: null } },
    select: { id: true, timeZone: true, autoNoShowAfterMinutes: true },
  });
  const result: NoShowSweepResult = { clinics: clinics.length, found: 0, marked: 0, skipped: 0 };
  for (const clinic of clinics) {
    const minutes = clinic.autoNoShowAfterMinutes ?? 0;
    const dueBy = new Date(now.getTime() - minutes * 60_000); // ended at or before: due
    const since = new Date(dueBy.getTime() - lookbackMs);
    const due = await db.appointment.findMany({
      where: {
        clinicId: clinic.id,
        status: { in: ['scheduled', 'confirmed'] },
        startsAt: { gt: new Date(since.getTime() - MAX_APPOINTMENT_MS) },
        endsAt: { gt: since, lte: dueBy },
      },
      select: { id: true },
      orderBy: { endsAt: 'asc' },
      take: limitPerClinic,
    });
    result.found += due.length;
    const scope = { clinicId: clinic.id, timeZone: clinic.timeZone };
    const reason = `automatic: still open ${minutes} min after its end`;
    for (const { id } of due) {
      try {
        await transitionAppointment(scope, id, 'no_show', reason);
        result.marked += 1;
      } catch (err) {
        // Completed, cancelled or removed since the query: nothing to do.
        if (!(err instanceof RuleViolationError || err instanceof NotFoundError)) throw err;
        result.skipped += 1;
      }
    }
  }
  if (result.found > 0) logger.info('appointments.no_show_swept', { ...result });
  return result;
}
