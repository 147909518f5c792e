import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DateTime } from 'luxon';
import { Client } from 'pg';
import { getConfig } from '../../lib/platform/config';
import { createClinic } from '../../lib/domain/tenancy/clinics';
import { startPgBouncer } from '../../test/support/pgbouncer';
import type { BookerAnswer, BookerRequest } from '../pooler/booker';
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
  type Booked,
} from '../support/scheduling';
import { ms, summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

/** A variant: its containers (child processes) and what they measured. */
interface Variant {
  label: string;
  containers: ChildProcess[];
  samples: number[];
  wallMs: number;
  statuses: Record<number, number>;
  firstOther?: string;
  peakServerConnections: number;
}

const x2 = (v: number) => `${v.toFixed(2)}x`;

let nextId = 0;
function ask(child: ChildProcess, msg: Omit<BookerRequest, 'id'>): Promise<BookerAnswer> {
  const id = ++nextId;
  return new Promise((resolve) => {
    const onMessage = (answer: BookerAnswer) => {
      if (answer.id !== id) return;
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send({ ...msg, id });
  });
}

function startContainer(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = fork(path.join(__dirname, '..', 'pooler', 'booker.ts'), [], { env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`bench container exited (${code}) before it was ready`)));
  });
}

async function run(): Promise<BenchResult> {
  const containers = envInt('BENCH_POOLER_CONTAINERS', 4);
  const clientsPer = envInt('BENCH_POOLER_CLIENTS', 2);
  const poolSize = envInt('BENCH_POOLER_POOL_SIZE', 4);
  const n = envInt('BENCH_POOLER_N', 400);
  const blockRounds = envInt('BENCH_POOLER_BLOCK_ROUNDS', 10);
  const warmupRounds = envInt('BENCH_POOLER_WARMUP_ROUNDS', 3);
  const clients = containers * clientsPer;
  const rounds = Math.ceil(n / clients);
  const config = getConfig();
  const direct = config.db.sessionUrl;
  const pg = await openFixtureClient(direct);
  const bouncer = await startPgBouncer({ poolSize });
  const adminUrl = new URL(bouncer.urlFor(direct));
  adminUrl.pathname = '/pgbouncer'; // PgBouncer's admin console: SHOW SERVERS
  const admin = new Client({ connectionString: adminUrl.toString() });
  const database = new URL(direct).pathname.slice(1);
  const variants: Variant[] = [];
  let clinicId: string | undefined;
  const notes: string[] = [];
  try {
    await admin.connect();
    const { clinic, apiKey } = await createClinic({ name: benchClinicName('booking-pooler'), timeZone: BENCH_ZONE });
    clinicId = clinic.id;
    const patientId = await insertPatient(pg, clinic.id);
    const own: string[] = [];
    for (let i = 0; i < clients * 2; i += 1) own.push(await insertProfessional(pg, clinic.id, CONSULTATIONS, `Pooler pro ${i + 1}`));
    const from = DateTime.now().setZone(BENCH_ZONE).plus({ days: 2 }).startOf('day');
    let grid: Booked[] = [];
    for (let days = 30; grid.length < warmupRounds + rounds; days *= 2) {
      grid = bookableGrid(CONSULTATIONS, { from: from.toJSDate(), to: from.plus({ days }).toJSDate() }, []);
    }

    const base = { ...process.env, LOG_LEVEL: 'SILENT', AGENDA_PROFILE: 'api' };
    const make = async (label: string, env: NodeJS.ProcessEnv): Promise<Variant> => ({
      label,
      containers: await Promise.all(Array.from({ length: containers }, () => startContainer({ ...base, ...env }))),
      samples: [],
      wallMs: 0,
      statuses: {},
      peakServerConnections: 0,
    });
    // Each variant books its own professionals' slots: the same work, never the same rows.
    variants.push(await make('direct', { DATABASE_URL: direct, DB_POOLER: 'none' }));
    variants.push(
      await make(`through PgBouncer (transaction mode, pool ${poolSize})`, { DATABASE_URL: bouncer.urlFor(direct), DB_POOLER: 'transaction', DIRECT_DATABASE_URL: direct }),
    );
    const [directV, pooledV] = variants as [Variant, Variant];

    const serverConnections = async (): Promise<number> => {
      const { rows } = await admin.query<{ database: string }>('SHOW SERVERS');
      return rows.filter((r) => r.database === database).length;
    };
    const runRound = async (v: Variant, vi: number, r: number, record: boolean) => {
      let sampling = v === pooledV && record;
      const sampler = (async () => {
        while (sampling) {
          v.peakServerConnections = Math.max(v.peakServerConnections, await serverConnections());
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const started = performance.now();
      const answers = await Promise.all(
        v.containers.map((child, c) =>
          ask(child, {
            key: apiKey.key,
            patientId,
            bookings: Array.from({ length: clientsPer }, (_, k) => ({ professionalId: own[vi * clients + c * clientsPer + k]!, startsAt: grid[r]!.start.toISOString() })),
          }),
        ),
      );
      const wall = performance.now() - started;
      sampling = false;
      await sampler;
      if (!record) return;
      v.wallMs += wall;
      for (const { results } of answers) {
        for (const res of results) {
          v.samples.push(res.ms);
          v.statuses[res.status] = (v.statuses[res.status] ?? 0) + 1;
          if (res.status !== 201) v.firstOther ??= `${res.status}: ${res.body ?? ''}`;
        }
      }
    };

    for (let r = 0; r < warmupRounds; r += 1) for (const [vi, v] of variants.entries()) await runRound(v, vi, r, false);
    for (let done = 0, block = 0; done < rounds; done += blockRounds, block += 1) {
      const order = block % 2 === 0 ? [0, 1] : [1, 0];
      for (const vi of order) {
        for (let r = done; r < Math.min(rounds, done + blockRounds); r += 1) await runRound(variants[vi]!, vi, warmupRounds + r, true);
      }
    }

    const stats = variants.map((v) => ({ v, s: summarize(v.samples), perSec: (v.samples.length * 1000) / v.wallMs }));
    const [d, p] = stats as [(typeof stats)[number], (typeof stats)[number]];
    for (const { v } of stats) if (v.firstOther) notes.push(`${v.label}: not every answer was 201; the first other: ${v.firstOther}`);
    notes.push(
      `${containers} containers per variant (one process each, api profile: pool max ${config.db.poolMax}), ${clientsPer} concurrent bookings each, ` +
        `${clients} per round; ${rounds} measured rounds per variant, taking turns in blocks of ${blockRounds} (ABBA). Direct, the containers may hold ` +
        `${containers * config.db.poolMax} server connections; through PgBouncer they hold ${containers * config.db.poolMax} client connections to it, and the server sees at most its pool.`,
      'Through the pooler each transaction first sets its own statement and idle-in-transaction timeouts (one more round trip per booking).',
    );
    return {
      params: { containers, clientsPerContainer: clientsPer, poolSize, rounds, blockRounds, warmupRounds },
      tables: [
        {
          title: `POST /v1/appointments, ${clients} concurrent bookings from ${containers} containers, direct vs through PgBouncer (latency in ms)`,
          columns: ['variant', 'bookings/s', 'p50', 'p99', 'mean', '201', 'peak server connections'],
          rows: [
            ...stats.map(({ v, s, perSec }) => [v.label, perSec.toFixed(1), ms(s.p50), ms(s.p99), ms(s.mean), String(v.statuses[201] ?? 0), v === pooledV ? String(v.peakServerConnections) : '-']),
            ['ratio direct / PgBouncer (throughput), PgBouncer / direct (latency)', x2(d.perSec / p.perSec), x2(p.s.p50 / d.s.p50), x2(p.s.p99 / d.s.p99), x2(p.s.mean / d.s.mean), '', `<= ${poolSize}: ${pooledV.peakServerConnections <= poolSize ? 'yes' : 'NO'}`],
          ],
        },
      ],
      data: {
        latencyMs: { direct: d.s, pooled: p.s },
        bookingsPerSec: { direct: d.perSec, pooled: p.perSec },
        peakServerConnections: pooledV.peakServerConnections,
        statuses: { direct: directV.statuses, pooled: pooledV.statuses },
      },
      notes,
    };
  } finally {
    await Promise.all(variants.flatMap((v) => v.containers.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.send('close'))))));
    if (clinicId) await removeBenchClinic(pg, clinicId).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await pg.end();
    await bouncer.stop();
  }
}

export const bookingPooler: BenchEntry = {
  name: 'booking through a pooler',
  description:
    'The same concurrent bookings from several containers, straight to PostgreSQL and through PgBouncer in transaction mode: throughput, latency, and the server connections the pooler holds',
  run,
};
