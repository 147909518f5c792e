import { computeSlots, toSlotView, type SlotQuery } from '../../lib/domain/availability/slots';
import { envInt } from '../support/env';
import { BENCH_ZONE, HIGH_VOLUME, benchRange, benchTimeOff, bookedAppointments, slotQuery } from '../support/scheduling';
import { ms, ratio, summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

interface Variant {
  label: string;
  call: () => number;
  samples: number[];
  slots: number;
}

/** One call, timed; returns the number of slots so the work cannot be optimized away. */
function timed(v: Variant): number {
  const started = performance.now();
  const slots = v.call();
  const elapsed = performance.now() - started;
  v.slots = slots;
  return elapsed;
}

async function run(): Promise<BenchResult> {
  const days = envInt('BENCH_SLOTS_DAYS', 30);
  const appointments = envInt('BENCH_SLOTS_APPOINTMENTS', 1000);
  const n = envInt('BENCH_SLOTS_CALLS', 1000);
  const warmup = envInt('BENCH_SLOTS_WARMUP', 50);
  const blockSize = Math.min(envInt('BENCH_BLOCK', 50), n);

  const range = benchRange(days);
  const timeOff = benchTimeOff(range.from);
  const booked = bookedAppointments(HIGH_VOLUME, range, timeOff, appointments);
  const empty: SlotQuery = slotQuery(HIGH_VOLUME, range, timeOff, []);
  const full: SlotQuery = slotQuery(HIGH_VOLUME, range, timeOff, booked);

  const baseline: Variant = { label: '0 appointments (baseline)', call: () => computeSlots(empty).length, samples: [], slots: 0 };
  const withBookings: Variant = {
    label: `${appointments} appointments`,
    call: () => computeSlots(full).length,
    samples: [],
    slots: 0,
  };
  // Not part of the ratio: what the availability service adds on a cache miss, formatting each
  // slot in the clinic's zone (luxon), to show where an uncached request's CPU goes.
  const withViews: Variant = {
    label: `${appointments} appointments + toSlotView (as the service answers)`,
    call: () => computeSlots(full).map((s) => toSlotView(s, BENCH_ZONE)).length,
    samples: [],
    slots: 0,
  };
  const variants = [baseline, withBookings, withViews];

  for (const v of variants) for (let i = 0; i < warmup; i += 1) timed(v);
  // Blocks in turn, rotating which variant goes first, so drift and GC hit all alike.
  for (let done = 0, round = 0; done < n; done += blockSize, round += 1) {
    const count = Math.min(blockSize, n - done);
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) for (let i = 0; i < count; i += 1) v.samples.push(timed(v));
  }

  const rows = variants.map((v) => {
    const s = summarize(v.samples);
    const total = v.samples.reduce((a, b) => a + b, 0);
    return { v, s, opsPerSec: (v.samples.length * 1000) / total };
  });
  const [a, b, c] = rows as [(typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];
  const row = (r: (typeof rows)[number]) => [r.v.label, Math.round(r.opsPerSec).toLocaleString('en-US'), ms(r.s.p50), ms(r.s.p99), ms(r.s.mean), String(r.v.slots)];
  const params = { days, appointments, n, warmup, blockSize, zone: BENCH_ZONE, durationMin: HIGH_VOLUME.durationMinutes, stepMin: HIGH_VOLUME.stepMinutes };
  return {
    params,
    tables: [
      {
        title: `computeSlots, one professional over ${days} days (${n} calls per variant; latency in ms)`,
        columns: ['variant', 'ops/s', 'p50', 'p99', 'mean', 'slots returned'],
        rows: [
          row(a),
          row(b),
          ['ratio bookings / baseline (time per call)', ratio(a.opsPerSec / b.opsPerSec), ratio(b.s.p50 / a.s.p50), ratio(b.s.p99 / a.s.p99), ratio(b.s.mean / a.s.mean), ''],
          row(c),
        ],
      },
    ],
    data: {
      latencyMs: { baseline: a.s, bookings: b.s, bookingsWithViews: c.s },
      opsPerSec: { baseline: a.opsPerSec, bookings: b.opsPerSec, bookingsWithViews: c.opsPerSec },
      slotsReturned: { baseline: a.v.slots, bookings: b.v.slots },
      ratio: { opsPerSec: a.opsPerSec / b.opsPerSec, p50: b.s.p50 / a.s.p50, p99: b.s.p99 / a.s.p99, mean: b.s.mean / a.s.mean },
      schedule: { hours: HIGH_VOLUME.hours, timeOff, bufferBefore: HIGH_VOLUME.bufferBeforeMinutes, bufferAfter: HIGH_VOLUME.bufferAfterMinutes },
    },
    notes: [
      `Schedule: Mon-Fri 07:00-12:00 and 13:00-20:00, Sat 07:00-13:00 (${BENCH_ZONE}); ${HIGH_VOLUME.durationMinutes}-minute slots every ` +
        `${HIGH_VOLUME.stepMinutes} minutes, buffers ${HIGH_VOLUME.bufferBeforeMinutes}/${HIGH_VOLUME.bufferAfterMinutes} minutes; time off one full day ` +
        `and one afternoon. The ${appointments} booked blocks are a seeded random, non-overlapping pick of the bookable grid.`,
      'ops/s is calls divided by the summed time of the calls (harness time between calls excluded). The ratio row divides ' +
        'time per call, so above 1x the bookings make a call slower.',
    ],
  };
}

export const slotComputation: BenchEntry = {
  name: 'slot computation',
  description:
    'The pure slot engine (computeSlots) for one professional over 30 days with 1,000 booked appointments vs. the same query with none.',
  run,
};
