import type { Client } from 'pg';
import { getConfig } from '../../lib/platform/config';
import { getPoolIfCreated } from '../../lib/platform/db/client';
import { createClinic } from '../../lib/domain/tenancy/clinics';
import { create as createAppointmentHandler } from '../../functions/http/appointments';
// The same API Gateway event and Lambda context the tests invoke handlers with.
import { buildContext, buildHttpEvent } from '../../test/support/invoke';
import { envInt } from '../support/env';
import {
  BENCH_ZONE,
  CONSULTATIONS,
  benchClinicName,
  bookableGrid,
  insertPatient,
  insertProfessional,
  openFixtureClient,
  removeBenchClinic,
  removeStaleBenchClinics,
  type Booked,
} from '../support/scheduling';
import { ms, ratio, summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';
import { DateTime } from 'luxon';

interface Request {
  professionalId: string;
  startsAt: Date;
}

interface Variant {
  label: string;
  /** The K requests of round r (one per client, fired together). */
  round: (r: number) => Request[];
  samples: number[];
  wallMs: number;
  statuses: Record<number, number>;
  firstOther?: string;
}

async function run(): Promise<BenchResult> {
  const clients = envInt('BENCH_BOOK_CLIENTS', 8);
  const n = envInt('BENCH_BOOK_N', 400);
  const contestedSlots = Math.min(envInt('BENCH_BOOK_SLOTS', 2), clients);
  const blockRounds = envInt('BENCH_BOOK_BLOCK_ROUNDS', 10);
  const warmupRounds = envInt('BENCH_BOOK_WARMUP_ROUNDS', 3);
  const rounds = Math.ceil(n / clients);
  const config = getConfig();
  const pg: Client = await openFixtureClient(config.db.url);
  let clinicId: string | undefined;
  const notes: string[] = [];
  try {
    const stale = await removeStaleBenchClinics(pg);
    if (stale > 0) notes.push(`Removed ${stale} bench clinic(s) an earlier, interrupted run had left.`);
    const { clinic, apiKey } = await createClinic({ name: benchClinicName('booking'), timeZone: BENCH_ZONE });
    clinicId = clinic.id;
    const patientId = await insertPatient(pg, clinic.id);
    // One professional per uncontended client, one that every contending client races for.
    const own: string[] = [];
    for (let i = 0; i < clients; i += 1) own.push(await insertProfessional(pg, clinic.id, CONSULTATIONS, `Bench pro ${i + 1}`));
    const contested = await insertProfessional(pg, clinic.id, CONSULTATIONS, 'Bench contested pro');

    // Bookable, non-overlapping times from two days ahead (no starts_in_past, reminders in the future).
    const total = warmupRounds + rounds;
    const needed = Math.max(total, total * contestedSlots);
    const from = DateTime.now().setZone(BENCH_ZONE).plus({ days: 2 }).startOf('day');
    let grid: Booked[] = [];
    for (let days = 30; grid.length < needed; days *= 2) {
      grid = bookableGrid(CONSULTATIONS, { from: from.toJSDate(), to: from.plus({ days }).toJSDate() }, []);
      if (days > 4000) throw new Error(`Cannot fit ${needed} bookings in the bench schedule`);
    }
    const at = (i: number) => grid[i]!.start;

    let offset = 0; // rounds already used (warm-up first)
    const uncontended: Variant = {
      label: `no contention (${clients} clients, own professional each)`,
      round: (r) => own.map((professionalId) => ({ professionalId, startsAt: at(r + offset) })),
      samples: [],
      wallMs: 0,
      statuses: {},
    };
    const contendedVariant: Variant = {
      label: `contention (${clients} clients racing for ${contestedSlots} slot(s) per round)`,
      round: (r) => own.map((_, i) => ({ professionalId: contested, startsAt: at((r + offset) * contestedSlots + (i % contestedSlots)) })),
      samples: [],
      wallMs: 0,
      statuses: {},
    };

    const book = async (v: Variant, req: Request, record: boolean): Promise<void> => {
      const event = buildHttpEvent({
        method: 'POST',
        path: '/v1/appointments',
        routeKey: 'POST /v1/appointments',
        headers: { authorization: `Bearer ${apiKey.key}` },
        body: { professionalId: req.professionalId, patientId, startsAt: req.startsAt.toISOString() },
      });
      const context = buildContext('agenda-bench-book');
      const started = performance.now();
      const result = await createAppointmentHandler(event, context);
      const elapsed = performance.now() - started;
      if (!record) return;
      v.samples.push(elapsed);
      v.statuses[result.statusCode] = (v.statuses[result.statusCode] ?? 0) + 1;
      if (result.statusCode !== 201 && result.statusCode !== 409) v.firstOther ??= `${result.statusCode}: ${String(result.body).slice(0, 300)}`;
    };
    /** One round: every client sends its request at once; the round ends when all have answered. */
    const runRound = async (v: Variant, r: number, record: boolean): Promise<void> => {
      const started = performance.now();
      await Promise.all(v.round(r).map((req) => book(v, req, record)));
      if (record) v.wallMs += performance.now() - started;
    };

    // Warm-up rounds (unmeasured) use the first grid positions; measured rounds come after them.
    for (let r = 0; r < warmupRounds; r += 1) {
      await runRound(uncontended, r, false);
      await runRound(contendedVariant, r, false);
    }
    offset = warmupRounds;
    for (let done = 0, block = 0; done < rounds; done += blockRounds, block += 1) {
      const count = Math.min(blockRounds, rounds - done);
      const order = block % 2 === 0 ? [uncontended, contendedVariant] : [contendedVariant, uncontended];
      for (const v of order) for (let r = done; r < done + count; r += 1) await runRound(v, r, true);
    }

    const rows = [uncontended, contendedVariant].map((v) => {
      const s = summarize(v.samples);
      const created = v.statuses[201] ?? 0;
      const conflicts = v.statuses[409] ?? 0;
      const other = v.samples.length - created - conflicts;
      return { v, s, created, conflicts, other, reqPerSec: (v.samples.length * 1000) / v.wallMs, createdPerSec: (created * 1000) / v.wallMs };
    });
    const [a, b] = rows as [(typeof rows)[number], (typeof rows)[number]];
    for (const r of rows) {
      if (r.other > 0) notes.push(`${r.v.label}: ${r.other} answer(s) were neither 201 nor 409; the first: ${r.v.firstOther}`);
    }
    const expected201 = rounds * contestedSlots;
    if (b.created !== expected201) {
      notes.push(`Contention: ${b.created} bookings succeeded where exactly ${expected201} (one per contested slot) should have.`);
    }
    const pool = getPoolIfCreated();
    notes.push(
      `Rounds: each of the ${clients} clients sends one POST /v1/appointments (clinicHandler: API key, rate limit, ` +
        'createAppointment transaction, then slot-cache invalidation, outbox publication and two delayed reminder jobs) and ' +
        `the round ends when all ${clients} have answered; ${rounds} measured rounds per variant, taking turns in blocks of ` +
        `${blockRounds} rounds (ABBA). Throughput is answers (or 201s) divided by the wall time of the variant's rounds.`,
      `Pool: the api profile's (max ${config.db.poolMax}, wait ${config.db.connectTimeoutMs} ms), shared by the ${clients} clients, ` +
        'i.e. one container serving concurrent requests: PostgreSQL sees at most that many transactions of this process at once. ' +
        `In production each Lambda container serves one request at a time, so ${clients} clients would be ${clients} containers ` +
        `with up to ${clients * config.db.poolMax} connections; the figures here are a per-container floor, not the database's ceiling.` +
        (pool ? ` Pool at the end: total ${pool.totalCount}, idle ${pool.idleCount}, waiting ${pool.waitingCount}.` : ''),
      `Contended times: each round ${contestedSlots} fresh slot(s) of one professional; client i asks for slot i mod ${contestedSlots}. ` +
        "PostgreSQL's exclusion constraint lets exactly one booking per slot through; the others get 409, after waiting for the winner's commit when they raced it, at once when it had already committed.",
    );
    const params = { clients, n: rounds * clients, rounds, contestedSlots, blockRounds, warmupRounds, profile: config.profile, poolMax: config.db.poolMax };
    const row = (r: (typeof rows)[number]) => [
      r.v.label,
      r.reqPerSec.toFixed(1),
      r.createdPerSec.toFixed(1),
      ms(r.s.p50),
      ms(r.s.p99),
      ms(r.s.mean),
      String(r.created),
      String(r.conflicts),
      String(r.other),
    ];
    return {
      params,
      tables: [
        {
          title: `POST /v1/appointments through the real handler, ${clients} concurrent clients, ${rounds * clients} requests per variant (latency in ms)`,
          columns: ['variant', 'answers/s', '201/s', 'p50', 'p99', 'mean', '201', '409', 'other'],
          rows: [
            row(a),
            row(b),
            [
              'ratio contention / no contention',
              ratio(b.reqPerSec / a.reqPerSec),
              ratio(b.createdPerSec / a.createdPerSec),
              ratio(b.s.p50 / a.s.p50),
              ratio(b.s.p99 / a.s.p99),
              ratio(b.s.mean / a.s.mean),
              '',
              '',
              '',
            ],
          ],
        },
      ],
      data: {
        latencyMs: { uncontended: a.s, contended: b.s },
        answersPerSec: { uncontended: a.reqPerSec, contended: b.reqPerSec },
        createdPerSec: { uncontended: a.createdPerSec, contended: b.createdPerSec },
        statuses: { uncontended: a.v.statuses, contended: b.v.statuses },
        wallMs: { uncontended: a.v.wallMs, contended: b.v.wallMs },
      },
      notes,
    };
  } finally {
    if (clinicId) {
      const removed = await removeBenchClinic(pg, clinicId);
      notes.push(
        `Cleanup: bench clinic and its appointments, history and outbox rows deleted; ${removed.jobsRemoved} queue job(s) ` +
          `(domain events, reminders) and ${removed.redisKeysRemoved} slot cache key(s) removed.`,
      );
    }
    await pg.end();
  }
}

export const bookingThroughput: BenchEntry = {
  name: 'booking throughput',
  description:
    'Bookings through the appointments handler by concurrent clients, each on distinct slots vs. all racing for the same few slots (most get 409).',
  run,
};
