import { DateTime } from 'luxon';

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

/** The instant of a local wall-clock minute of a local date; a time inside a DST gap moves forward. */
function localInstant(day: DateTime, minute: number): DateTime {
  if (minute >= 1440) return localInstant(day.plus({ days: 1 }), minute - 1440);
  return DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour: Math.floor(minute / 60), minute: minute % 60 },
    { zone: day.zone },
  );
}

/**
 * The working intervals of a weekly schedule that fall in [from, to), as absolute instants. Local
 * times are resolved per date in `zone`, so 09:00 stays 09:00 on both sides of a DST change and a
 * day that is 23 or 25 hours long keeps its real length.
 */
export function workingIntervals(hours: WeeklyInterval[], zone: string, from: Date, to: Date): Interval[] {
  const out: Interval[] = [];
  const last = DateTime.fromJSDate(to, { zone }).startOf('day');
  for (let day = DateTime.fromJSDate(from, { zone }).startOf('day').minus({ days: 1 }); day <= last; day = day.plus({ days: 1 })) {
    const weekday = day.weekday % 7; // luxon: 1 = Monday .. 7 = Sunday
    for (const h of hours) {
      if (h.weekday !== weekday) continue;
      const start = new Date(Math.max(localInstant(day, h.startMinute).toMillis(), from.getTime()));
      const end = new Date(Math.min(localInstant(day, h.endMinute).toMillis(), to.getTime()));
      if (start < end) out.push({ start, end });
    }
  }
  return out.sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** True when [start, end) lies inside one of the intervals. */
export function within(intervals: Interval[], start: Date, end: Date): boolean {
  return intervals.some((i) => i.start <= start && end <= i.end);
}

/** True when two half-open ranges share an instant. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}
