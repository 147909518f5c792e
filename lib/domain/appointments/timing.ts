import { DateTime } from 'luxon';
import { RuleViolationError } from '../../platform/errors/app-error';

const MINUTE = 60_000;

/** What a professional keeps free around each appointment; a professional row fits as it is. */
export interface Buffers {
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
}

/** An appointment's blocked range, named as its columns so it spreads into a write. */
export interface BlockedRange {
  blockStartsAt: Date;
  blockEndsAt: Date;
}

/** Minutes added to the instant itself: a DST change in the clinic's zone never stretches an appointment. */
export const addMinutes = (d: Date, minutes: number) => new Date(d.getTime() + minutes * MINUTE);

/** Whole minutes from start to end: the length the API shows, and the one a reschedule keeps by default. */
export const minutesBetween = (startsAt: Date, endsAt: Date) => Math.round((endsAt.getTime() - startsAt.getTime()) / MINUTE);

/**
 * The range an appointment keeps its professional busy. The exclusion constraint and the slot
 * cache compare these columns, not the appointment's own times, so booking and rescheduling must
 * widen by the buffers the same way or a neighbour could eat into a buffer.
 */
export function blockedRange(startsAt: Date, endsAt: Date, buffers: Buffers): BlockedRange {
  return {
    blockStartsAt: addMinutes(startsAt, -buffers.bufferBeforeMinutes),
    blockEndsAt: addMinutes(endsAt, buffers.bufferAfterMinutes),
  };
}

/** Request times keep their own offset: schemas already refused any without one. */
export const parseInstant = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toJSDate();

/** Throws 422 `starts_in_past`: a booking or a move into the past could never be kept. */
export function assertFuture(startsAt: Date, now = Date.now()): void {
  if (startsAt.getTime() <= now) {
    throw new RuleViolationError('starts_in_past', 'The appointment must start in the future');
  }
}
