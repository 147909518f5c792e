import { DateTime } from 'luxon';
import { workingIntervals, type Interval, type WeeklyInterval } from './schedule';

/** Everything the slot engine needs; it touches no database, cache or clock of its own. */
export interface SlotQuery {
  /** IANA time zone the working hours are expressed in (the clinic's). */
  zone: string;
  hours: WeeklyInterval[];
  /** Periods the professional is away. */
  timeOff: Interval[];
  /** Blocked ranges of active appointments (their times already widened by their buffers). */
  busy: Interval[];
  durationMinutes: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  /** Slot starts are this far apart, counted from the start of each working interval. */
  stepMinutes: number;
  /** Slots whose start lies in [from, to) are offered. */
  from: Date;
  to: Date;
  /** Slots starting before this instant are not offered. */
  now?: Date;
}

/** A free slot [start, end). */
export interface Slot {
  start: Date;
  end: Date;
}

/** A slot as the API shows it: local ISO times with the clinic's offset, and the same in UTC. */
export interface SlotView {
  start: string;
  end: string;
  startUtc: string;
  endUtc: string;
}

const MINUTE = 60_000;

/** Sorted, merged copy of half-open ranges (empty ones dropped), as [start, end] millisecond pairs. */
export function mergeIntervals(ranges: Interval[]): Array<[number, number]> {
  const sorted = ranges
    .map((r): [number, number] => [r.start.getTime(), r.end.getTime()])
    .filter(([s, e]) => s < e)
    .sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** True when [start, end) meets one of the merged ranges. */
function blocked(merged: Array<[number, number]>, start: number, end: number): boolean {
  // First merged range that ends after `start`; it is the only candidate for an overlap.
  let lo = 0;
  let hi = merged.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (merged[mid]![1] <= start) lo = mid + 1;
    else hi = mid;
  }
  const r = merged[lo];
  return r !== undefined && r[0] < end;
}

/**
 * The first start on a working interval's step grid at or after `earliest`, and never before the
 * interval itself. The grid counts from the interval's start, not from the query's `from` or
 * `now`, so asking later or for another range never shifts the starts a patient was shown.
 */
export function firstStepAtOrAfter(intervalStart: number, earliest: number, step: number): number {
  return intervalStart + Math.max(0, Math.ceil((earliest - intervalStart) / step)) * step;
}

function assertMinutes(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}

/**
 * The free slots of one professional. A slot [start, end) is offered when
 * - it lies inside one working interval (resolved in `zone`, DST-aware: see workingIntervals),
 * - its start is one of that interval's steps: interval start + k x step, counted in elapsed
 *   minutes (on a day without a transition that is the local clock; across one, each real instant
 *   is offered once and none is skipped or repeated),
 * - its block [start - bufferBefore, end + bufferAfter) overlaps no busy block and no time off,
 * - its start lies in [from, to) and is not before `now`.
 * Slots come sorted by start, one per start (overlapping working intervals can offer a start twice).
 */
export function computeSlots(q: SlotQuery): Slot[] {
  assertMinutes('durationMinutes', q.durationMinutes, 1);
  assertMinutes('stepMinutes', q.stepMinutes, 1);
  assertMinutes('bufferBeforeMinutes', q.bufferBeforeMinutes, 0);
  assertMinutes('bufferAfterMinutes', q.bufferAfterMinutes, 0);
  const from = q.from.getTime();
  const to = q.to.getTime();
  if (!(from < to)) return [];

  const duration = q.durationMinutes * MINUTE;
  const step = q.stepMinutes * MINUTE;
  const before = q.bufferBeforeMinutes * MINUTE;
  const after = q.bufferAfterMinutes * MINUTE;
  const earliest = Math.max(from, q.now?.getTime() ?? -Infinity);

  // Working intervals unclipped around [from, to): steps count from an interval's real start even
  // when it began before `from`, and a slot starting just before `to` may end after it.
  const longest = Math.max(1440, ...q.hours.map((h) => h.endMinute - h.startMinute)) * MINUTE;
  const intervals = workingIntervals(q.hours, q.zone, new Date(from - longest - 2 * 3_600_000), new Date(to + duration + 1));
  const merged = mergeIntervals([...q.busy, ...q.timeOff]);

  const slots: Array<[number, number]> = [];
  for (const iv of intervals) {
    const ivStart = iv.start.getTime();
    const ivEnd = iv.end.getTime();
    if (ivEnd <= earliest || ivStart >= to) continue;
    for (let start = firstStepAtOrAfter(ivStart, earliest, step); start < to && start + duration <= ivEnd; start += step) {
      if (!blocked(merged, start - before, start + duration + after)) slots.push([start, start + duration]);
    }
  }
  slots.sort((a, b) => a[0] - b[0]);
  const out: Slot[] = [];
  let previous = Number.NaN;
  for (const [s, e] of slots) {
    if (s === previous) continue;
    previous = s;
    out.push({ start: new Date(s), end: new Date(e) });
  }
  return out;
}

/** An instant as ISO-8601 with the zone's offset, e.g. 2026-03-02T09:00:00-03:00. */
export function localIso(at: Date | number, zone: string): string {
  return DateTime.fromMillis(typeof at === 'number' ? at : at.getTime(), { zone }).toISO({ suppressMilliseconds: true })!;
}

/** A slot as the API shows it. */
export function toSlotView(slot: Slot, zone: string): SlotView {
  return {
    start: localIso(slot.start, zone),
    end: localIso(slot.end, zone),
    startUtc: slot.start.toISOString(),
    endUtc: slot.end.toISOString(),
  };
}
