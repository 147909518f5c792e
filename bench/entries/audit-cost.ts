import type { Client } from 'pg';
import { DateTime } from 'luxon';
import { getConfig } from '../../lib/platform/config';
import { actingAs } from '../../lib/platform/db/actor';
import { getDb } from '../../lib/platform/db/client';
import { inTransaction } from '../../lib/platform/db/transaction';
import { createClinic } from '../../lib/domain/tenancy/clinics';
import { getAppointment, toAppointmentDto } from '../../lib/domain/appointments/service';
import { create as createAppointmentHandler } from '../../functions/http/appointments';
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
} from '../support/scheduling';
import { ms, ratio, summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

/** The triggers that record a booking's changes; the "off" variant disables them for its turns. */
const BOOKING_TRIGGERS = ['appointments_audit', 'appointments_audit_update'];

const setTriggers = (pg: Client, on: boolean) =>
  pg.query(BOOKING_TRIGGERS.map((t) => `ALTER TABLE appointments ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`).join('; '));

/** Runs `count` timed calls of each variant, taking turns in blocks (ABBA), and returns the samples. */
async function abba(variants: { before?: () => Promise<unknown>; call: (i: number) => Promise<void> }[], n: number, block: number) {
  const samples = variants.map(() => [] as number[]);
  let i = 0;
  for (let done = 0, b = 0; done < n; done += block, b += 1) {
    const order = b % 2 === 0 ? variants.map((_, k) => k) : variants.map((_, k) => k).reverse();
    for (const k of order) {
      await variants[k]!.before?.();
      for (let r = 0; r < Math.min(block, n - done); r += 1) {
        const started = performance.now();
        await variants[k]!.call(i);
        samples[k]!.push(performance.now() - started);
        i += 1;
      }
    }
  }
  return samples.map(summarize);
}

async function run(): Promise<BenchResult> {
  const n = envInt('BENCH_AUDIT_N', 300);
  const block = envInt('BENCH_AUDIT_BLOCK', 25);
  const config = getConfig();
  const pg = await openFixtureClient(config.db.url);
  let clinicId: string | undefined;
  const notes: string[] = [];
  try {
    const stale = await removeStaleBenchClinics(pg);
    if (stale > 0) notes.push(`Removed ${stale} bench clinic(s) an earlier, interrupted run had left.`);
    const { clinic, apiKey } = await createClinic({ name: benchClinicName('audit'), timeZone: BENCH_ZONE });
    clinicId = clinic.id;
    const patientId = await insertPatient(pg, clinic.id);
    const professionalId = await insertProfessional(pg, clinic.id, CONSULTATIONS, 'Bench audit pro');
    const from = DateTime.now().setZone(BENCH_ZONE).plus({ days: 2 }).startOf('day');
    const grid = bookableGrid(CONSULTATIONS, { from: from.toJSDate(), to: from.plus({ days: 400 }).toJSDate() }, []);
    if (grid.length < 2 * n + 20) throw new Error(`Cannot fit ${2 * n + 20} bookings in the bench schedule`);
    let next = 0;
    const book = async () => {
      const event = buildHttpEvent({
        method: 'POST',
        path: '/v1/appointments',
        routeKey: 'POST /v1/appointments',
        headers: { authorization: `Bearer ${apiKey.key}` },
        body: { professionalId, patientId, startsAt: grid[next++]!.start.toISOString() },
      });
      const res = await createAppointmentHandler(event, buildContext('agenda-bench-audit'));
      if (res.statusCode !== 201) throw new Error(`booking answered ${res.statusCode}: ${String(res.body).slice(0, 200)}`);
    };
    for (let w = 0; w < 10; w += 1) await book(); // warm-up: connections, prepared plans, the handler's imports

    let bookings: ReturnType<typeof summarize>[];
    try {
      bookings = await abba([{ before: () => setTriggers(pg, true), call: book }, { before: () => setTriggers(pg, false), call: book }], n, block);
    } finally {
      await setTriggers(pg, true);
    }
    const [on, off] = bookings as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];

    // Reads: GET /v1/appointments/{id}'s service, which records the read beside the query, vs the
    // same query and mapping without the record.
    const { rows } = await pg.query<{ id: string }>('SELECT id::text FROM appointments WHERE clinic_id = $1 LIMIT 20', [clinic.id]);
    const ids = rows.map((r) => r.id);
    const scope = { clinicId: clinic.id, timeZone: BENCH_ZONE };
    const actor = { type: 'api_key' as const, id: 'bench', requestId: 'bench' };
    const db = await getDb();
    const plain = async (i: number) => {
      const a = await db.appointment.findFirst({ where: { id: ids[i % ids.length]!, clinicId: clinic.id }, include: { history: { orderBy: { createdAt: 'asc' } } } });
      toAppointmentDto(a!, a!.history);
    };
    const audited = (i: number) => actingAs(actor, async () => void (await getAppointment(scope, ids[i % ids.length]!)));
    const [readAudited, readPlain] = (await abba([{ call: audited }, { call: plain }], n, block)) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];

    // The one statement that names the actor to the triggers, alone: an empty transaction with and without it.
    const named = () => actingAs(actor, () => inTransaction(async () => undefined));
    const anonymous = () => inTransaction(async () => undefined);
    const [txNamed, txAnonymous] = (await abba([{ call: named }, { call: anonymous }], n, block)) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];

    notes.push(
      `Bookings: ${n} per variant, one at a time, through the real handler (API key, rate limit, the booking transaction, ` +
        `outbox publication, reminders), taking turns in blocks of ${block} (ABBA). "off" disables the appointments' audit ` +
        'triggers for its turns (ALTER TABLE ... DISABLE TRIGGER); both send the statement that names the actor, whose own ' +
        'cost the third table isolates. The audit row is written by the booking\'s INSERT itself, inside its transaction.',
      'Reads: getAppointment records the read with an INSERT ... SELECT on a second pooled connection while the read runs; ' +
        '"plain" is the same Prisma query and mapping without it.',
    );
    const row = (label: string, s: ReturnType<typeof summarize>) => [label, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.mean)];
    const ratioRow = (label: string, a: ReturnType<typeof summarize>, b: ReturnType<typeof summarize>) => [
      label,
      ratio(a.p50 / b.p50),
      ratio(a.p90 / b.p90),
      ratio(a.p99 / b.p99),
      ratio(a.mean / b.mean),
    ];
    const columns = ['variant', 'p50', 'p90', 'p99', 'mean'];
    return {
      params: { n, block, profile: config.profile, poolMax: config.db.poolMax },
      tables: [
        {
          title: `POST /v1/appointments with the audit triggers on and off (${n} each, latency in ms)`,
          columns,
          rows: [row('audit on', on), row('audit off', off), ratioRow('ratio on / off', on, off)],
        },
        {
          title: `One appointment read, recorded vs not (${n} each, latency in ms)`,
          columns,
          rows: [row('recorded', readAudited), row('plain', readPlain), ratioRow('ratio recorded / plain', readAudited, readPlain)],
        },
        {
          title: `An empty transaction with and without the actor named (${n} each, latency in ms)`,
          columns,
          rows: [row('actor named', txNamed), row('no actor', txAnonymous), ratioRow('ratio named / none', txNamed, txAnonymous)],
        },
      ],
      data: { booking: { on, off }, read: { recorded: readAudited, plain: readPlain }, transaction: { named: txNamed, anonymous: txAnonymous } },
      notes,
    };
  } finally {
    if (clinicId) await removeBenchClinic(pg, clinicId);
    await pg.end();
  }
}

export const auditCost: BenchEntry = {
  name: 'audit cost',
  description:
    'What the access audit trail adds: bookings with the audit triggers on vs off, a read recorded vs not, and the statement that names the actor.',
  run,
};
