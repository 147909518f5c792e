import { civilDayOf, overlaps, resolveLocal, within, workingIntervals, type WeeklyInterval } from '../../lib/domain/availability/schedule';
import { computeSlots, toSlotView } from '../../lib/domain/availability/slots';

const NY = 'America/New_York';
const SP = 'America/Sao_Paulo';
const iso = (d: Date) => d.toISOString();
const day = (s: string) => Date.parse(`${s}T00:00:00Z`);
const hoursLong = (i: { start: Date; end: Date }) => (i.end.getTime() - i.start.getTime()) / 3_600_000;
const everyDay = (startMinute: number, endMinute: number): WeeklyInterval[] =>
  [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, startMinute, endMinute }));

describe('resolveLocal', () => {
  it('resolves ordinary local times to their one instant', () => {
    expect(iso(new Date(resolveLocal(SP, day('2026-03-02'), 9 * 60)))).toBe('2026-03-02T12:00:00.000Z');
    expect(iso(new Date(resolveLocal(NY, day('2026-03-09'), 9 * 60)))).toBe('2026-03-09T13:00:00.000Z');
    expect(iso(new Date(resolveLocal(NY, day('2026-03-06'), 9 * 60)))).toBe('2026-03-06T14:00:00.000Z');
  });

  it('resolves a time skipped by a gap to the instant the gap ends', () => {
    // New York 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00Z).
    expect(iso(new Date(resolveLocal(NY, day('2026-03-08'), 2 * 60)))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(new Date(resolveLocal(NY, day('2026-03-08'), 2 * 60 + 30)))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(new Date(resolveLocal(NY, day('2026-03-08'), 3 * 60)))).toBe('2026-03-08T07:00:00.000Z');
    // São Paulo 2018-11-04: midnight -03 became 01:00 -02 (03:00Z).
    expect(iso(new Date(resolveLocal(SP, day('2018-11-04'), 0)))).toBe('2018-11-04T03:00:00.000Z');
    expect(iso(new Date(resolveLocal(SP, day('2018-11-03'), 1440)))).toBe('2018-11-04T03:00:00.000Z');
  });

  it('resolves a repeated time to its first occurrence', () => {
    // New York 2026-11-01: 01:00-01:59 happens twice (EDT, then EST).
    expect(iso(new Date(resolveLocal(NY, day('2026-11-01'), 60 + 30)))).toBe('2026-11-01T05:30:00.000Z');
    // São Paulo 2019-02-16: 23:00-23:59 happens twice (-02, then -03).
    expect(iso(new Date(resolveLocal(SP, day('2019-02-16'), 23 * 60)))).toBe('2019-02-17T01:00:00.000Z');
  });

  it('finds the local calendar date of an instant', () => {
    expect(civilDayOf(SP, new Date('2026-03-03T02:59:00Z'))).toBe(day('2026-03-02'));
    expect(civilDayOf(SP, new Date('2026-03-03T03:00:00Z'))).toBe(day('2026-03-03'));
  });
});

describe('workingIntervals across DST', () => {
  it('keeps 09:00 at 09:00 on both sides of a New York transition', () => {
    const ivs = workingIntervals(everyDay(9 * 60, 17 * 60), NY, new Date('2026-03-06T00:00:00Z'), new Date('2026-03-11T00:00:00Z'));
    expect(ivs.map((i) => iso(i.start))).toEqual([
      '2026-03-06T14:00:00.000Z',
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
      '2026-03-10T13:00:00.000Z',
    ]);
    expect(ivs.every((i) => hoursLong(i) === 8)).toBe(true);
  });

  it('gives an interval crossing a gap or a repeated hour its real length', () => {
    const spring = workingIntervals(everyDay(0, 5 * 60), NY, new Date('2026-03-08T04:00:00Z'), new Date('2026-03-08T12:00:00Z'));
    expect(spring.map(hoursLong)).toEqual([4]);
    const fall = workingIntervals(everyDay(0, 5 * 60), NY, new Date('2026-11-01T03:00:00Z'), new Date('2026-11-01T12:00:00Z'));
    expect(fall.map(hoursLong)).toEqual([6]);
    // São Paulo, Saturday 22:00-24:00 before each transition.
    const sat = [{ weekday: 6, startMinute: 22 * 60, endMinute: 24 * 60 }];
    expect(workingIntervals(sat, SP, new Date('2018-11-03T12:00:00Z'), new Date('2018-11-05T00:00:00Z')).map(hoursLong)).toEqual([2]);
    expect(workingIntervals(sat, SP, new Date('2019-02-16T12:00:00Z'), new Date('2019-02-18T00:00:00Z')).map(hoursLong)).toEqual([3]);
    // Sunday 2018-11-04 00:00-05:00 in São Paulo starts at 01:00 (midnight did not exist): 4 hours.
    const sun = workingIntervals([{ weekday: 0, startMinute: 0, endMinute: 300 }], SP, new Date('2018-11-03T12:00:00Z'), new Date('2018-11-05T00:00:00Z'));
    expect(sun.map((i) => iso(i.start))).toEqual(['2018-11-04T03:00:00.000Z']);
    expect(sun.map(hoursLong)).toEqual([4]);
  });

  it('handles an interval that lies entirely inside a gap (empty) and one past midnight', () => {
    expect(workingIntervals([{ weekday: 0, startMinute: 120, endMinute: 150 }], NY, new Date('2026-03-07T00:00:00Z'), new Date('2026-03-09T00:00:00Z'))).toEqual([]);
    const night = workingIntervals([{ weekday: 1, startMinute: 22 * 60, endMinute: 26 * 60 }], SP, new Date('2026-03-02T00:00:00Z'), new Date('2026-03-04T00:00:00Z'));
    expect(night.map((i) => [iso(i.start), iso(i.end)])).toEqual([['2026-03-03T01:00:00.000Z', '2026-03-03T05:00:00.000Z']]);
  });

  it('clips to [from, to) and supports within/overlaps', () => {
    const ivs = workingIntervals(everyDay(9 * 60, 12 * 60), SP, new Date('2026-03-02T13:00:00Z'), new Date('2026-03-02T14:00:00Z'));
    expect(ivs.map((i) => [iso(i.start), iso(i.end)])).toEqual([['2026-03-02T13:00:00.000Z', '2026-03-02T14:00:00.000Z']]);
    expect(within(ivs, new Date('2026-03-02T13:00:00Z'), new Date('2026-03-02T14:00:00Z'))).toBe(true);
    expect(within(ivs, new Date('2026-03-02T13:30:00Z'), new Date('2026-03-02T14:30:00Z'))).toBe(false);
    const a = { start: new Date(0), end: new Date(10) };
    expect(overlaps(a, { start: new Date(10), end: new Date(20) })).toBe(false);
    expect(overlaps(a, { start: new Date(9), end: new Date(20) })).toBe(true);
  });
});

describe('computeSlots examples', () => {
  const base = { timeOff: [], busy: [], bufferBeforeMinutes: 0, bufferAfterMinutes: 0 };

  it('offers local 09:00 every day across the New York and São Paulo transitions, with the right offset', () => {
    const ny = computeSlots({ ...base, zone: NY, hours: everyDay(9 * 60, 10 * 60), durationMinutes: 60, stepMinutes: 60, from: new Date('2026-03-07T00:00:00Z'), to: new Date('2026-03-10T00:00:00Z') });
    expect(ny.map((s) => toSlotView(s, NY).start)).toEqual(['2026-03-07T09:00:00-05:00', '2026-03-08T09:00:00-04:00', '2026-03-09T09:00:00-04:00']);
    const fall = computeSlots({ ...base, zone: NY, hours: everyDay(9 * 60, 10 * 60), durationMinutes: 60, stepMinutes: 60, from: new Date('2026-10-31T00:00:00Z'), to: new Date('2026-11-03T00:00:00Z') });
    expect(fall.map((s) => toSlotView(s, NY).start)).toEqual(['2026-10-31T09:00:00-04:00', '2026-11-01T09:00:00-05:00', '2026-11-02T09:00:00-05:00']);
    const sp = computeSlots({ ...base, zone: SP, hours: everyDay(9 * 60, 10 * 60), durationMinutes: 60, stepMinutes: 60, from: new Date('2018-11-03T00:00:00Z'), to: new Date('2018-11-06T00:00:00Z') });
    expect(sp.map((s) => toSlotView(s, SP).start)).toEqual(['2018-11-03T09:00:00-03:00', '2018-11-04T09:00:00-02:00', '2018-11-05T09:00:00-02:00']);
    const now = computeSlots({ ...base, zone: SP, hours: everyDay(9 * 60, 10 * 60), durationMinutes: 30, stepMinutes: 30, from: new Date('2026-03-02T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') });
    expect(now.map((s) => toSlotView(s, SP))).toEqual([
      { start: '2026-03-02T09:00:00-03:00', end: '2026-03-02T09:30:00-03:00', startUtc: '2026-03-02T12:00:00.000Z', endUtc: '2026-03-02T12:30:00.000Z' },
      { start: '2026-03-02T09:30:00-03:00', end: '2026-03-02T10:00:00-03:00', startUtc: '2026-03-02T12:30:00.000Z', endUtc: '2026-03-02T13:00:00.000Z' },
    ]);
  });

  it('steps through a gap and a repeated hour by elapsed time: no instant skipped or offered twice', () => {
    const spring = computeSlots({ ...base, zone: NY, hours: everyDay(60, 4 * 60), durationMinutes: 30, stepMinutes: 30, from: new Date('2026-03-08T05:00:00Z'), to: new Date('2026-03-08T10:00:00Z') });
    expect(spring.map((s) => toSlotView(s, NY).start)).toEqual([
      '2026-03-08T01:00:00-05:00', '2026-03-08T01:30:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T03:30:00-04:00',
    ]);
    const fall = computeSlots({ ...base, zone: NY, hours: everyDay(60, 3 * 60), durationMinutes: 30, stepMinutes: 30, from: new Date('2026-11-01T04:00:00Z'), to: new Date('2026-11-01T10:00:00Z') });
    expect(fall.map((s) => toSlotView(s, NY).start)).toEqual([
      '2026-11-01T01:00:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-01T01:00:00-05:00', '2026-11-01T01:30:00-05:00',
      '2026-11-01T02:00:00-05:00', '2026-11-01T02:30:00-05:00',
    ]);
  });

  it('applies buffers against busy blocks and time off, steps from the interval start even when from cuts it, and drops the past', () => {
    const slots = computeSlots({
      zone: SP,
      hours: everyDay(9 * 60, 12 * 60),
      timeOff: [{ start: new Date('2026-03-02T14:30:00Z'), end: new Date('2026-03-02T15:00:00Z') }], // 11:30-12:00 local
      busy: [{ start: new Date('2026-03-02T13:00:00Z'), end: new Date('2026-03-02T13:30:00Z') }], // 10:00-10:30 local
      durationMinutes: 30,
      bufferBeforeMinutes: 10,
      bufferAfterMinutes: 5,
      stepMinutes: 20,
      from: new Date('2026-03-02T12:10:00Z'), // 09:10 local: steps stay on 09:00 + k x 20
      to: new Date('2026-03-03T00:00:00Z'),
      now: new Date('2026-03-02T12:30:00Z'),
    });
    // 09:20 is past; 09:40 ends 10:10 (busy); 10:00, 10:20 busy (10:20 block starts 10:10);
    // 10:40 block 10:30-11:15 ok; 11:00 block 10:50-11:35 hits time off at 11:30; 11:20 too.
    expect(slots.map((s) => toSlotView(s, SP).start.slice(11, 16))).toEqual(['10:40']);
  });
});
