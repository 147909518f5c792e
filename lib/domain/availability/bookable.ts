import type { Db } from '../../platform/db/client';
import { RuleViolationError } from '../../platform/errors/app-error';
import { overlaps, within, workingIntervals } from './schedule';

export interface BookingWindow {
  professionalId: string;
  zone: string;
  startsAt: Date;
  endsAt: Date;
}

type Tx = Pick<Db, 'workingHours' | 'timeOff'>;

/**
 * Refuses a booking outside the professional's working hours or inside their time off. Overlap with
 * other appointments is not checked here: PostgreSQL's exclusion constraint decides that, race-free.
 */
export async function assertBookable(tx: Tx, w: BookingWindow): Promise<void> {
  const [hours, timeOff] = await Promise.all([
    tx.workingHours.findMany({ where: { professionalId: w.professionalId } }),
    tx.timeOff.findMany({ where: { professionalId: w.professionalId, startsAt: { lt: w.endsAt }, endsAt: { gt: w.startsAt } } }),
  ]);
  const dayBefore = new Date(w.startsAt.getTime() - 86_400_000);
  const dayAfter = new Date(w.endsAt.getTime() + 86_400_000);
  if (!within(workingIntervals(hours, w.zone, dayBefore, dayAfter), w.startsAt, w.endsAt)) {
    throw new RuleViolationError('outside_working_hours', 'The time is outside the professional\'s working hours');
  }
  const clash = timeOff.find((t) => overlaps({ start: t.startsAt, end: t.endsAt }, { start: w.startsAt, end: w.endsAt }));
  if (clash) throw new RuleViolationError('professional_time_off', 'The professional is away at that time');
}
