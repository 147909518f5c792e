import { IANAZone } from 'luxon';

/** A weekly working interval: weekday 0 = Sunday, minutes from local midnight, end exclusive. */
export interface WeeklyInterval {
  weekday: number;
  startMinute: number;
  endMinute: number;
}

/** A half-open range of instants [start, end). */
export interface Interval {
  start: Date;
  end: Date;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A calendar date, as the UTC midnight of that date (so plain date arithmetic never meets a DST change). */
type CivilDay = number;

function zoneOf(zone: string): IANAZone {
  const z = IANAZone.create(zone);
  if (!z.isValid) throw new RangeError(`Unknown time zone: ${zone}`);
  return z;
}

/** The local calendar date of an instant in `zone`. */
export function civilDayOf(zone: string, at: Date): CivilDay {
  const local = at.getTime() + zoneOf(zone).offset(at.getTime()) * MINUTE;
  return local - (((local % DAY) + DAY) % DAY);
}

/**
 * The instant a local wall-clock time (a local date plus minutes from its midnight, possibly past
 * 24 h) resolves to in `zone`:
 * - an ordinary time resolves to its one instant;
 * - a repeated time (clocks turned back) resolves to its first occurrence;
 * - a skipped time (clocks turned forward) resolves to the instant the gap ends, the first instant
 *   whose clock reads at least that time. So an interval that crosses a gap keeps its real length,
 *   and one lying entirely inside a gap is empty.
 */
export function resolveLocal(zone: string, day: CivilDay, minute: number): number {
  const z = zoneOf(zone);
  const wall = day + minute * MINUTE; // the wall-clock time read as if it were UTC
  // Every offset in force within a day and a half either side: transitions are far rarer than that.
  const offsets = [...new Set([z.offset(wall - 1.5 * DAY), z.offset(wall), z.offset(wall + 1.5 * DAY)])];
  const valid = offsets.map((o) => wall - o * MINUTE).filter((ts) => z.offset(ts) * MINUTE + ts === wall);
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the transition lies between the instants this wall time names under each offset.
  // Binary search (to the minute) for the first instant of the new offset.
  const candidates = offsets.map((o) => wall - o * MINUTE);
  let lo = Math.min(...candidates);
  let hi = Math.max(...candidates);
  const after = z.offset(hi);
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (z.offset(mid) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The working intervals of a weekly schedule that fall in [from, to), as absolute instants, clipped
 * to [from, to). Local times are resolved per date in `zone` (see resolveLocal), so 09:00 stays
 * 09:00 on both sides of a DST change and a working interval that crosses a transition has its real
 * length (one hour shorter across a gap, one hour longer across a repeated hour). An interval may
 * run past midnight (endMinute > 1440).
 */
export function workingIntervals(hours: WeeklyInterval[], zone: string, from: Date, to: Date): Interval[] {
  const out: Interval[] = [];
  if (hours.length === 0 || !(from < to)) return out;
  const span = Math.max(1440, ...hours.map((h) => h.endMinute));
  const firstDay = civilDayOf(zone, from) - Math.ceil(span / 1440) * DAY;
  const lastDay = civilDayOf(zone, to);
  for (let day = firstDay; day <= lastDay; day += DAY) {
    const weekday = new Date(day).getUTCDay();
    for (const h of hours) {
      if (h.weekday !== weekday || h.endMinute <= h.startMinute) continue;
      const start = Math.max(resolveLocal(zone, day, h.startMinute), from.getTime());
      const end = Math.min(resolveLocal(zone, day, h.endMinute), to.getTime());
      if (start < end) out.push({ start: new Date(start), end: new Date(end) });
    }
  }
  return out.sort((a, b) => a.start.getTime() - b.start.getTime() || a.end.getTime() - b.end.getTime());
}

/** True when [start, end) lies inside one of the intervals. */
export function within(intervals: Interval[], start: Date, end: Date): boolean {
  return intervals.some((i) => i.start <= start && end <= i.end);
}

/** True when two half-open ranges share an instant. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}
