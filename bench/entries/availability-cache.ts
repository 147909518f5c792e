import type { Client } from 'pg';
import { invalidateSlots } from '../../lib/domain/availability/cache';
import { getConfig } from '../../lib/platform/config';
import { createClinic } from '../../lib/domain/tenancy/clinics';
import { handler as slotsHandler } from '../../functions/http/slots';
// The same API Gateway event and Lambda context the tests invoke handlers with.
import { buildContext, buildHttpEvent } from '../../test/support/invoke';
import { envInt } from '../support/env';
import {
  BENCH_ZONE,
  HIGH_VOLUME,
  benchClinicName,
  benchRange,
  benchTimeOff,
  bookedAppointments,
  headerOf,
  insertAppointments,
  insertPatient,
  insertProfessional,
  insertTimeOff,
  openFixtureClient,
  removeBenchClinic,
  removeStaleBenchClinics,
} from '../support/scheduling';
import { ms, ratio, summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

interface Variant {
  label: string;
  /** The X-Cache every measured request must answer with. */
  expect: 'hit' | 'miss';
  /** Unmeasured work before each request (the uncached variant drops the cache here). */
  before: () => Promise<void>;
  samples: number[];
  unexpected: Record<string, number>;
}

async function run(): Promise<BenchResult> {
  const n = envInt('BENCH_SLOTS_N', 300);
  const warmup = envInt('BENCH_SLOTS_REQ_WARMUP', 20);
  const blockSize = Math.min(envInt('BENCH_BLOCK', 50), n);
  const days = envInt('BENCH_SLOTS_DAYS', 30);
  const appointments = envInt('BENCH_SLOTS_APPOINTMENTS', 1000);
  const config = getConfig();
  const pg: Client = await openFixtureClient(config.db.url);
  let clinicId: string | undefined;
  const notes: string[] = [];
  try {
    const stale = await removeStaleBenchClinics(pg);
    if (stale > 0) notes.push(`Removed ${stale} bench clinic(s) an earlier, interrupted run had left.`);

    // Fixtures: clinic and key through the product's service (the key is hashed there), the rest as rows.
    const { clinic, apiKey } = await createClinic({ name: benchClinicName('availability'), timeZone: BENCH_ZONE });
    clinicId = clinic.id;
    const range = benchRange(days);
    const timeOff = benchTimeOff(range.from);
    const professionalId = await insertProfessional(pg, clinic.id, HIGH_VOLUME, 'Bench high-volume');
    await insertTimeOff(pg, professionalId, timeOff);
    const patientId = await insertPatient(pg, clinic.id);
    const booked = bookedAppointments(HIGH_VOLUME, range, timeOff, appointments);
    await insertAppointments(pg, { clinicId: clinic.id, professionalId, patientId }, booked);
    await pg.query('ANALYZE appointments');

    const path = `/v1/professionals/${professionalId}/slots?from=${range.fromDate}&to=${range.toDate}`;
    let slotsReturned = 0;
    let bodyBytes = 0;
    const invokeOnce = async (v: Variant): Promise<number> => {
      await v.before();
      const event = buildHttpEvent({
        method: 'GET',
        path,
        routeKey: 'GET /v1/professionals/{id}/slots',
        pathParameters: { id: professionalId },
        headers: { authorization: `Bearer ${apiKey.key}` },
      });
      const context = buildContext('agenda-bench-slots');
      const started = performance.now();
      const result = await slotsHandler(event, context);
      const elapsed = performance.now() - started;
      if (result.statusCode !== 200) throw new Error(`slots answered ${result.statusCode}: ${String(result.body)}`);
      const cache = headerOf(result.headers, 'x-cache') ?? 'none';
      if (cache !== v.expect) v.unexpected[cache] = (v.unexpected[cache] ?? 0) + 1;
      bodyBytes = Buffer.byteLength(result.body ?? '');
      slotsReturned = (JSON.parse(result.body ?? '{}') as { slots?: unknown[] }).slots?.length ?? 0;
      return elapsed;
    };

    const cached: Variant = { label: 'cached (warm: X-Cache hit)', expect: 'hit', before: async () => undefined, samples: [], unexpected: {} };
    const uncached: Variant = {
      label: 'uncached (invalidateSlots before each: miss)',
      expect: 'miss',
      before: () => invalidateSlots(professionalId),
      samples: [],
      unexpected: {},
    };
    // Warm-up: the first request is this process's first through the slots route (auth, limiter,
    // Prisma paths); the uncached warm-up ends with a miss that fills the cache for the cached blocks.
    for (const v of [uncached, cached]) for (let i = 0; i < warmup; i += 1) await invokeOnce(v);
    uncached.unexpected = {};
    cached.unexpected = {};

    for (let done = 0, round = 0; done < n; done += blockSize, round += 1) {
      const count = Math.min(blockSize, n - done);
      const order = round % 2 === 0 ? [cached, uncached] : [uncached, cached];
      for (const v of order) {
        // After an uncached block, the first cached request would be a miss: refill, unmeasured.
        if (v === cached) await invokeOnce({ ...cached, samples: [], unexpected: {} });
        for (let i = 0; i < count; i += 1) v.samples.push(await invokeOnce(v));
      }
    }

    for (const v of [cached, uncached]) {
      const off = Object.entries(v.unexpected);
      if (off.length > 0) {
        notes.push(`${v.label}: ${off.map(([k, c]) => `${c} answered X-Cache ${k}`).join(', ')} (expected ${v.expect}); those samples are included.`);
      }
    }
    const a = summarize(cached.samples);
    const b = summarize(uncached.samples);
    const params = { n, warmup, blockSize, days, appointments, profile: config.profile, poolMax: config.db.poolMax, rateLimitPoints: config.rateLimit.points };
    notes.push(
      `Each answer carried ${slotsReturned} slots (${(bodyBytes / 1024).toFixed(0)} KiB of JSON); the range holds ${appointments} active appointments ` +
        `of one professional (Mon-Fri 07-12 and 13-20, Sat 07-13, ${BENCH_ZONE}; 10-minute slots every 5 minutes).`,
      'A hit still authenticates the key (one indexed read), spends the rate limit (one Redis script), reads the professional ' +
        'and the cache version, GETs the cached list, parses it and drops past slots. A miss reads hours, time off and the ' +
        'appointments, runs computeSlots, formats every slot in the clinic zone and SETs the list.',
    );
    return {
      params,
      tables: [
        {
          title: `GET /v1/professionals/{id}/slots over ${days} days through the real handler, ${n} sequential requests per variant (ms)`,
          columns: ['variant', 'p50', 'p95', 'p99', 'mean', 'req/s (sequential)'],
          rows: [
            ...[
              [cached, a],
              [uncached, b],
            ].map(([v, s]) => {
              const sv = s as ReturnType<typeof summarize>;
              return [(v as Variant).label, ms(sv.p50), ms(sv.p95), ms(sv.p99), ms(sv.mean), (1000 / sv.mean).toFixed(0)];
            }),
            ['ratio uncached / cached', ratio(b.p50 / a.p50), ratio(b.p95 / a.p95), ratio(b.p99 / a.p99), ratio(b.mean / a.mean), ''],
          ],
        },
      ],
      data: {
        latencyMs: { cached: a, uncached: b },
        ratio: { p50: b.p50 / a.p50, p95: b.p95 / a.p95, p99: b.p99 / a.p99, mean: b.mean / a.mean },
        slotsReturned,
        bodyBytes,
      },
      notes,
    };
  } finally {
    if (clinicId) {
      const removed = await removeBenchClinic(pg, clinicId);
      notes.push(`Cleanup: bench clinic deleted (cascade), ${removed.redisKeysRemoved} slot cache key(s) removed from Redis.`);
    }
    await pg.end();
  }
}

export const availabilityCache: BenchEntry = {
  name: 'availability requests: cached vs uncached',
  description:
    'The slots handler (auth, rate limit, availability service) over 30 days with 1,000 booked appointments, with the Redis cache warm vs. invalidated before each request.',
  run,
};
