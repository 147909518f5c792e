import fc from 'fast-check';
import { DateTime } from 'luxon';
import { workingIntervals, type Interval, type WeeklyInterval } from '../../lib/domain/availability/schedule';
import { computeSlots, firstStepAtOrAfter, toSlotView, type Slot, type SlotQuery } from '../../lib/domain/availability/slots';

/**
 * Property-based tests of the slot engine in a zone with DST (America/New_York) and one that had it
 * until 2019 (America/Sao_Paulo), with ranges placed around their transitions.
 */

const MIN = 60_000;
const DAY = 86_400_000;

/** Ranges are placed around these instants: each zone's transitions, plus an ordinary week. */
const ANCHORS: Record<string, string[]> = {
  'America/New_York': ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2026-06-10T12:00:00Z'],
  'America/Sao_Paulo': ['2018-11-04T03:00:00Z', '2019-02-17T02:00:00Z', '2026-03-02T12:00:00Z'],
};

const weeklyInterval = (maxLen: number) =>
  fc
    .record({ weekday: fc.integer({ min: 0, max: 6 }), startMinute: fc.integer({ min: 0, max: 1439 }), len: fc.integer({ min: 1, max: maxLen }) })
    .map(({ weekday, startMinute, len }): WeeklyInterval => ({ weekday, startMinute, endMinute: startMinute + len }));

/** Weekly hours that never overlap each other (per weekday, disjoint and within the day). */
const disjointHours = fc
  .array(
    fc.record({ weekday: fc.integer({ min: 0, max: 6 }), cuts: fc.uniqueArray(fc.integer({ min: 0, max: 1440 }), { minLength: 2, maxLength: 6 }) }),
    { maxLength: 7 },
  )
  .map((days) => {
    const seen = new Set<number>();
    const out: WeeklyInterval[] = [];
    for (const { weekday, cuts } of days) {
      if (seen.has(weekday)) continue;
      seen.add(weekday);
      const sorted = [...cuts].sort((a, b) => a - b);
      for (let i = 0; i + 1 < sorted.length; i += 2) out.push({ weekday, startMinute: sorted[i]!, endMinute: sorted[i + 1]! });
    }
    return out;
  });

/** Any weekly hours: overlapping ones and ones past midnight included. */
const anyHours = fc.array(weeklyInterval(1800), { maxLength: 8 });

/** A query around one of the zone's anchors; every instant a whole minute. */
const query = (hoursArb: fc.Arbitrary<WeeklyInterval[]>, maxRangeMinutes: number) =>
  fc
    .record({
      zone: fc.constantFrom('America/New_York', 'America/Sao_Paulo'),
      anchor: fc.integer({ min: 0, max: 2 }),
      fromOffset: fc.integer({ min: -3 * 1440, max: 2 * 1440 }),
      rangeMinutes: fc.integer({ min: 1, max: maxRangeMinutes }),
      hours: hoursArb,
      timeOffRaw: fc.array(fc.tuple(fc.integer({ min: -1440, max: 5 * 1440 }), fc.integer({ min: 1, max: 600 })), { maxLength: 4 }),
      busyRaw: fc.array(fc.tuple(fc.integer({ min: -1440, max: 5 * 1440 }), fc.integer({ min: 1, max: 240 })), { maxLength: 10 }),
      durationMinutes: fc.integer({ min: 5, max: 120 }),
      bufferBeforeMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
      bufferAfterMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 })),
      stepMinutes: fc.constantFrom(5, 10, 15, 20, 30, 45, 60, 7, 25, 90),
      nowOffset: fc.option(fc.integer({ min: -1440, max: 4 * 1440 }), { nil: undefined }),
    })
    .map((r): SlotQuery => {
      const anchor = Date.parse(ANCHORS[r.zone]![r.anchor]!);
      const from = anchor + r.fromOffset * MIN;
      const to = from + r.rangeMinutes * MIN;
      const range = ([off, len]: [number, number]): Interval => ({ start: new Date(from + off * MIN), end: new Date(from + (off + len) * MIN) });
      return {
        zone: r.zone,
        hours: r.hours,
        timeOff: r.timeOffRaw.map(range),
        busy: r.busyRaw.map(range),
        durationMinutes: r.durationMinutes,
        bufferBeforeMinutes: r.bufferBeforeMinutes,
        bufferAfterMinutes: r.bufferAfterMinutes,
        stepMinutes: r.stepMinutes,
        from: new Date(from),
        to: new Date(to),
        ...(r.nowOffset !== undefined && { now: new Date(from + r.nowOffset * MIN) }),
      };
    });

const t = (d: Date) => d.getTime();
const widened = (q: SlotQuery, s: Slot): Interval => ({
  start: new Date(t(s.start) - q.bufferBeforeMinutes * MIN),
  end: new Date(t(s.end) + q.bufferAfterMinutes * MIN),
});
const meets = (a: Interval, b: Interval) => t(a.start) < t(b.end) && t(b.start) < t(a.end);
/** The working intervals around the query, unclipped by it. */
const intervalsAround = (q: SlotQuery) => workingIntervals(q.hours, q.zone, new Date(t(q.from) - 4 * DAY), new Date(t(q.to) + 3 * DAY));

/**
 * An oracle that shares nothing with the engine but workingIntervals: every minute of the range is
 * a candidate start; blocked minutes come from a minute-by-minute map.
 */
function bruteForce(q: SlotQuery): number[] {
  const ivs = intervalsAround(q);
  const lo = t(q.from) - 2 * DAY;
  const minutes = (5 * DAY + (t(q.to) - t(q.from))) / MIN;
  const blockedMinute = new Uint8Array(minutes);
  for (const r of [...q.busy, ...q.timeOff]) {
    for (let m = t(r.start); m < t(r.end); m += MIN) {
      const i = (m - lo) / MIN;
      if (i >= 0 && i < minutes) blockedMinute[i] = 1;
    }
  }
  const out: number[] = [];
  const dur = q.durationMinutes * MIN;
  const step = q.stepMinutes * MIN;
  for (let s = t(q.from); s < t(q.to); s += MIN) {
    if (q.now && s < t(q.now)) continue;
    const inHours = ivs.some((iv) => t(iv.start) <= s && s + dur <= t(iv.end) && (s - t(iv.start)) % step === 0);
    if (!inHours) continue;
    let free = true;
    for (let m = s - q.bufferBeforeMinutes * MIN; free && m < s + dur + q.bufferAfterMinutes * MIN; m += MIN) {
      if (blockedMinute[(m - lo) / MIN]) free = false;
    }
    if (free) out.push(s);
  }
  return out;
}

describe('computeSlots properties', () => {
  it('every slot has the duration, lies in one working interval, misses busy blocks and time off once widened, and is sorted and unique', () => {
    let withSlots = 0;
    let acrossTransition = 0;
    fc.assert(
      fc.property(query(anyHours, 4 * 1440), (q) => {
        const slots = computeSlots(q);
        const ivs = intervalsAround(q);
        const blocks = [...q.busy, ...q.timeOff];
        const problems: string[] = [];
        for (const [i, s] of slots.entries()) {
          const at = s.start.toISOString();
          if (t(s.end) - t(s.start) !== q.durationMinutes * MIN) problems.push(`${at}: wrong duration`);
          if (t(s.start) < t(q.from) || t(s.start) >= t(q.to)) problems.push(`${at}: start outside [from, to)`);
          if (q.now && t(s.start) < t(q.now)) problems.push(`${at}: in the past`);
          if (!ivs.some((iv) => iv.start <= s.start && s.end <= iv.end && (t(s.start) - t(iv.start)) % (q.stepMinutes * MIN) === 0)) {
            problems.push(`${at}: not inside one working interval on its step grid`);
          }
          const block = widened(q, s);
          if (blocks.some((b) => meets(block, b))) problems.push(`${at}: widened block meets a busy block or time off`);
          if (i > 0 && t(s.start) <= t(slots[i - 1]!.start)) problems.push(`${at}: not sorted or not unique`);
        }
        expect(problems).toEqual([]);
        if (slots.length > 0) withSlots++;
        const offsets = new Set([q.from, q.to].map((d) => DateTime.fromJSDate(d, { zone: q.zone }).offset));
        if (offsets.size > 1 && slots.length > 0) acrossTransition++;
      }),
      { numRuns: 200 },
    );
    // The generators must actually exercise the engine, at DST transitions too.
    expect(withSlots).toBeGreaterThan(50);
    expect(acrossTransition).toBeGreaterThan(10);
  });

  it('slots never overlap each other when step >= duration and the working hours do not overlap', () => {
    fc.assert(
      fc.property(query(disjointHours, 4 * 1440), (q) => {
        fc.pre(q.stepMinutes >= q.durationMinutes);
        const slots = computeSlots(q);
        for (let i = 1; i < slots.length; i++) expect(t(slots[i - 1]!.end)).toBeLessThanOrEqual(t(slots[i]!.start));
      }),
      { numRuns: 150 },
    );
  });

  it('matches a minute-by-minute brute-force oracle', () => {
    fc.assert(
      fc.property(query(anyHours, 2 * 1440), (q) => {
        expect(computeSlots(q).map((s) => t(s.start))).toEqual(bruteForce(q));
      }),
      { numRuns: 150 },
    );
  });

  it('on a day without a transition, a slot reads as local wall-clock times inside the weekly hours, on the grid', () => {
    fc.assert(
      fc.property(query(disjointHours, 4 * 1440), (q) => {
        for (const s of computeSlots(q)) {
          const startLocal = DateTime.fromJSDate(s.start, { zone: q.zone });
          const endLocal = DateTime.fromJSDate(s.end, { zone: q.zone });
          // Disjoint hours end by midnight, so the slot belongs to its start's local date. Skip days
          // with a transition (the one before midnight included: São Paulo skipped midnight itself).
          const day = startLocal.startOf('day');
          const dayEnd = day.plus({ days: 1 });
          const offsets = new Set([day.minus({ milliseconds: 1 }).offset, day.offset, startLocal.offset, endLocal.offset, dayEnd.offset]);
          if (offsets.size > 1 || day.hour !== 0) continue;
          const a = startLocal.hour * 60 + startLocal.minute;
          const b = endLocal.hasSame(startLocal, 'day') ? endLocal.hour * 60 + endLocal.minute : 1440 + endLocal.hour * 60 + endLocal.minute;
          const weekday = startLocal.weekday % 7;
          const h = q.hours.find((w) => w.weekday === weekday && w.startMinute <= a && b <= w.endMinute);
          expect(h).toBeDefined();
          expect((a - h!.startMinute) % q.stepMinutes).toBe(0);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('shows each slot with the zone offset in force at that instant, and the same instant in UTC', () => {
    fc.assert(
      fc.property(query(anyHours, 2 * 1440), (q) => {
        for (const s of computeSlots(q).slice(0, 50)) {
          const v = toSlotView(s, q.zone);
          expect(Date.parse(v.start)).toBe(t(s.start));
          expect(Date.parse(v.end)).toBe(t(s.end));
          expect(v.startUtc).toBe(s.start.toISOString());
          expect(v.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
          const offset = DateTime.fromJSDate(s.start, { zone: q.zone }).toFormat('ZZ');
          expect(v.start.endsWith(offset)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('adding a busy block only removes slots, and removing every block and time off only adds them', () => {
    fc.assert(
      fc.property(query(anyHours, 3 * 1440), fc.integer({ min: 0, max: 3 * 1440 }), fc.integer({ min: 1, max: 300 }), (q, off, len) => {
        const base = new Set(computeSlots(q).map((s) => t(s.start)));
        const extra = { start: new Date(t(q.from) + off * MIN), end: new Date(t(q.from) + (off + len) * MIN) };
        const fewer = computeSlots({ ...q, busy: [...q.busy, extra] }).map((s) => t(s.start));
        for (const s of fewer) expect(base.has(s)).toBe(true);
        const more = new Set(computeSlots({ ...q, busy: [], timeOff: [] }).map((s) => t(s.start)));
        for (const s of base) expect(more.has(s)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('firstStepAtOrAfter (step-grid rounding)', () => {
  /** Minute-aligned instants around 2026, an interval start and a step as the engine passes them. */
  const minute = fc.integer({ min: 29_000_000, max: 30_000_000 }).map((m) => m * MIN);
  const step = fc.integer({ min: 1, max: 240 }).map((m) => m * MIN);

  it('lands on the interval grid, at or after both the interval start and the earliest start, with no grid point skipped', () => {
    fc.assert(
      fc.property(minute, minute, step, (ivStart, earliest, st) => {
        const start = firstStepAtOrAfter(ivStart, earliest, st);
        expect((start - ivStart) % st).toBe(0);
        expect(start).toBeGreaterThanOrEqual(Math.max(ivStart, earliest));
        // The grid point before it is too early (or it is the interval's own start).
        expect(start === ivStart || start - st < earliest).toBe(true);
      }),
    );
  });

  it('keeps an earliest start that is already on the grid, and the interval start when earliest is before it', () => {
    fc.assert(
      fc.property(minute, step, fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 10_000 }), (ivStart, st, k, backMinutes) => {
        expect(firstStepAtOrAfter(ivStart, ivStart + k * st, st)).toBe(ivStart + k * st);
        expect(firstStepAtOrAfter(ivStart, ivStart - backMinutes * MIN, st)).toBe(ivStart);
      }),
    );
  });

  it('does not move the grid when `now` moves: slots offered later are a suffix of those offered earlier', () => {
    fc.assert(
      fc.property(query(anyHours, 2 * 1440), fc.integer({ min: 0, max: 2 * 1440 }), (q, laterMinutes) => {
        const earlier = computeSlots({ ...q, now: q.from }).map((s) => t(s.start));
        const now = t(q.from) + laterMinutes * MIN;
        const later = computeSlots({ ...q, now: new Date(now) }).map((s) => t(s.start));
        expect(later).toEqual(earlier.filter((s) => s >= now));
      }),
      { numRuns: 100 },
    );
  });
});
