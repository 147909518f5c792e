/**
 * Scheduling fixtures for the availability and booking benchmarks: a deterministic professional
 * (weekly hours, buffers, time off) and a set of non-overlapping booked blocks, built in memory for
 * the pure slot engine and written straight into PostgreSQL (plain SQL on a bench-owned client,
 * not through the product's pool) for the handler benchmarks. Every bench clinic is named with
 * BENCH_CLINIC_PREFIX and removed at the end of its entry (or at the start of the next run, when a
 * run was killed), together with the Redis keys and queue jobs its requests created.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { Client } from 'pg';
import type { Interval, WeeklyInterval } from '../../lib/domain/availability/schedule';
import { computeSlots, type SlotQuery } from '../../lib/domain/availability/slots';

export const BENCH_ZONE = 'America/Sao_Paulo';
/** Every clinic a bench entry creates starts with this, so a killed run's leftovers can be found. */
export const BENCH_CLINIC_PREFIX = 'agenda-bench ';
/** The clinic's default reminder offsets (minutes before the start): one delayed job each per booking. */
const REMINDER_OFFSETS = [1440, 120];

export interface ProfessionalSpec {
  hours: WeeklyInterval[];
  durationMinutes: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  stepMinutes: number;
}

const weekdays = [1, 2, 3, 4, 5];
const span = (weekday: number, from: string, to: string): WeeklyInterval => {
  const m = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  return { weekday, startMinute: m(from), endMinute: m(to) };
};

/**
 * A high-volume professional (blood collection, vaccination, quick returns): 10-minute
 * appointments with 1 minute of buffer either side, offered every 5 minutes; Monday to Friday
 * 07:00-12:00 and 13:00-20:00, Saturday 07:00-13:00. 1,000 appointments in 30 days only fit a
 * schedule like this (about 74 % of its bookable time).
 */
export const HIGH_VOLUME: ProfessionalSpec = {
  hours: [...weekdays.flatMap((d) => [span(d, '07:00', '12:00'), span(d, '13:00', '20:00')]), span(6, '07:00', '13:00')],
  durationMinutes: 10,
  bufferBeforeMinutes: 1,
  bufferAfterMinutes: 1,
  stepMinutes: 5,
};

/** A consultation professional: 30 minutes, 5 before and 10 after, every 15 minutes; Mon-Fri 08-12 and 13-18, Sat 08-12. */
export const CONSULTATIONS: ProfessionalSpec = {
  hours: [...weekdays.flatMap((d) => [span(d, '08:00', '12:00'), span(d, '13:00', '18:00')]), span(6, '08:00', '12:00')],
  durationMinutes: 30,
  bufferBeforeMinutes: 5,
  bufferAfterMinutes: 10,
  stepMinutes: 15,
};

/** Local midnight of the first Monday at least two days from now: [from, from + days). */
export function benchRange(days: number): { from: Date; to: Date; fromDate: string; toDate: string } {
  let start = DateTime.now().setZone(BENCH_ZONE).plus({ days: 2 }).startOf('day');
  while (start.weekday !== 1) start = start.plus({ days: 1 });
  const end = start.plus({ days });
  return { from: start.toJSDate(), to: end.toJSDate(), fromDate: start.toISODate()!, toDate: end.toISODate()! };
}

/** Time off inside the range: the second Wednesday all day, and the third Friday afternoon. */
export function benchTimeOff(from: Date): Interval[] {
  const d0 = DateTime.fromJSDate(from, { zone: BENCH_ZONE }).startOf('day');
  const at = (day: number, hour: number) => d0.plus({ days: day }).set({ hour }).toJSDate();
  return [
    { start: at(9, 0), end: d0.plus({ days: 10 }).toJSDate() },
    { start: at(18, 13), end: at(18, 20) },
  ];
}

/** Deterministic PRNG (mulberry32), so every run books the same times. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Booked {
  start: Date;
  end: Date;
  blockStart: Date;
  blockEnd: Date;
}

/**
 * Every position of a back-to-back grid of blocks (buffer + duration + buffer) inside the working
 * hours and outside time off, in [from, to): any subset of it is free of overlaps by construction.
 */
export function bookableGrid(spec: ProfessionalSpec, range: { from: Date; to: Date }, timeOff: Interval[]): Booked[] {
  const before = spec.bufferBeforeMinutes * 60_000;
  const after = spec.bufferAfterMinutes * 60_000;
  return computeSlots({
    zone: BENCH_ZONE,
    hours: spec.hours,
    timeOff,
    busy: [],
    durationMinutes: spec.durationMinutes,
    bufferBeforeMinutes: spec.bufferBeforeMinutes,
    bufferAfterMinutes: spec.bufferAfterMinutes,
    stepMinutes: spec.bufferBeforeMinutes + spec.durationMinutes + spec.bufferAfterMinutes,
    from: range.from,
    to: range.to,
    now: range.from,
  }).map((s) => ({ ...s, blockStart: new Date(s.start.getTime() - before), blockEnd: new Date(s.end.getTime() + after) }));
}

/** `count` grid positions picked at random (seeded), sorted by start: non-overlapping booked blocks. */
export function bookedAppointments(spec: ProfessionalSpec, range: { from: Date; to: Date }, timeOff: Interval[], count: number): Booked[] {
  const grid = bookableGrid(spec, range, timeOff);
  if (grid.length < count) {
    throw new Error(`Only ${grid.length} non-overlapping appointments fit the bench schedule in the range; asked for ${count}`);
  }
  const random = rng(20261129);
  for (let i = grid.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [grid[i], grid[j]] = [grid[j]!, grid[i]!];
  }
  return grid.slice(0, count).sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** The engine's input for one professional's range, as the availability service builds it. */
export function slotQuery(spec: ProfessionalSpec, range: { from: Date; to: Date }, timeOff: Interval[], booked: Booked[]): SlotQuery {
  return {
    zone: BENCH_ZONE,
    hours: spec.hours,
    timeOff,
    busy: booked.map((b) => ({ start: b.blockStart, end: b.blockEnd })),
    durationMinutes: spec.durationMinutes,
    bufferBeforeMinutes: spec.bufferBeforeMinutes,
    bufferAfterMinutes: spec.bufferAfterMinutes,
    stepMinutes: spec.stepMinutes,
    from: range.from,
    to: range.to,
    now: range.from,
  };
}

/** A bench-owned PostgreSQL client for fixtures: setup and cleanup never go through the measured pool. */
export async function openFixtureClient(databaseUrl: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'agenda-bench-fixtures' });
  await client.connect();
  return client;
}

export const benchClinicName = (entry: string) => `${BENCH_CLINIC_PREFIX}${entry} ${randomUUID().slice(0, 8)}`;

export async function insertProfessional(pg: Client, clinicId: string, spec: ProfessionalSpec, name: string): Promise<string> {
  const { rows } = await pg.query<{ id: string }>(
    `INSERT INTO professionals (clinic_id, name, specialty, default_duration_minutes, buffer_before_minutes, buffer_after_minutes, slot_step_minutes)
     VALUES ($1, $2, 'general', $3, $4, $5, $6) RETURNING id::text`,
    [clinicId, name, spec.durationMinutes, spec.bufferBeforeMinutes, spec.bufferAfterMinutes, spec.stepMinutes],
  );
  const id = rows[0]!.id;
  await pg.query(
    `INSERT INTO working_hours (professional_id, weekday, start_minute, end_minute)
     SELECT $1, w, s, e FROM unnest($2::smallint[], $3::int[], $4::int[]) AS t(w, s, e)`,
    [id, spec.hours.map((h) => h.weekday), spec.hours.map((h) => h.startMinute), spec.hours.map((h) => h.endMinute)],
  );
  return id;
}

export async function insertTimeOff(pg: Client, professionalId: string, timeOff: Interval[]): Promise<void> {
  await pg.query(
    `INSERT INTO time_off (professional_id, starts_at, ends_at, reason)
     SELECT $1, s, e, 'bench' FROM unnest($2::timestamptz[], $3::timestamptz[]) AS t(s, e)`,
    [professionalId, timeOff.map((t) => t.start.toISOString()), timeOff.map((t) => t.end.toISOString())],
  );
}

export async function insertPatient(pg: Client, clinicId: string): Promise<string> {
  const { rows } = await pg.query<{ id: string }>(
    `INSERT INTO patients (clinic_id, name, email) VALUES ($1, 'Paciente Bench', 'bench@example.com') RETURNING id::text`,
    [clinicId],
  );
  return rows[0]!.id;
}

/** Booked appointments as rows (status scheduled), in one statement. */
export async function insertAppointments(pg: Client, ids: { clinicId: string; professionalId: string; patientId: string }, booked: Booked[]) {
  const iso = (pick: (b: Booked) => Date) => booked.map((b) => pick(b).toISOString());
  await pg.query(
    `INSERT INTO appointments (clinic_id, professional_id, patient_id, starts_at, ends_at, block_starts_at, block_ends_at)
     SELECT $1, $2, $3, s, e, bs, be
     FROM unnest($4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[]) AS t(s, e, bs, be)`,
    [ids.clinicId, ids.professionalId, ids.patientId, iso((b) => b.start), iso((b) => b.end), iso((b) => b.blockStart), iso((b) => b.blockEnd)],
  );
}

/**
 * Removes a bench clinic and everything its run left: the queue jobs its bookings added (domain
 * events, delayed reminders), the slot cache keys and versions of its professionals, its outbox rows
 * (no foreign key), its appointments (their professional/patient keys are RESTRICT), then the clinic,
 * which cascades to professionals, patients, hours, time off and API keys.
 */
export async function removeBenchClinic(pg: Client, clinicId: string): Promise<{ jobsRemoved: number; redisKeysRemoved: number }> {
  const { getAgendaQueue } = await import('../../lib/platform/queues/queues');
  const { getRedis } = await import('../../lib/platform/redis/client');
  // One client runs one query at a time: sequential on purpose.
  const appts = await pg.query<{ id: string }>('SELECT id::text FROM appointments WHERE clinic_id = $1', [clinicId]);
  const events = await pg.query<{ id: string }>('SELECT id::text FROM outbox_events WHERE clinic_id = $1', [clinicId]);
  const pros = await pg.query<{ id: string }>('SELECT id::text FROM professionals WHERE clinic_id = $1', [clinicId]);
  let jobsRemoved = 0;
  let redisKeysRemoved = 0;
  if (events.rows.length > 0) {
    const queue = await getAgendaQueue();
    const jobIds = [
      ...events.rows.map((e) => e.id),
      ...appts.rows.flatMap((a) => REMINDER_OFFSETS.map((o) => `reminder:${a.id}:${o}`)),
    ];
    for (let i = 0; i < jobIds.length; i += 100) {
      const removed = await Promise.all(jobIds.slice(i, i + 100).map((id) => queue.remove(id).catch(() => 0)));
      jobsRemoved += removed.reduce<number>((n, r) => n + Number(r), 0);
    }
  }
  if (pros.rows.length > 0) {
    const redis = await getRedis();
    for (const { id } of pros.rows) {
      const keys = [`slots:ver:${id}`];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `slots:${id}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      redisKeysRemoved += await redis.del(...keys);
    }
  }
  await pg.query('BEGIN');
  try {
    await pg.query('DELETE FROM outbox_events WHERE clinic_id = $1', [clinicId]);
    await pg.query('DELETE FROM idempotency_keys WHERE clinic_id = $1', [clinicId]);
    await pg.query('DELETE FROM appointments WHERE clinic_id = $1', [clinicId]);
    await pg.query('DELETE FROM clinics WHERE id = $1', [clinicId]);
    await pg.query('COMMIT');
  } catch (err) {
    await pg.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return { jobsRemoved, redisKeysRemoved };
}

/** Bench clinics a killed run left behind (name prefix); removed before an entry creates its own. */
export async function removeStaleBenchClinics(pg: Client): Promise<number> {
  const { rows } = await pg.query<{ id: string }>("SELECT id::text FROM clinics WHERE name LIKE $1 || '%'", [BENCH_CLINIC_PREFIX]);
  for (const { id } of rows) await removeBenchClinic(pg, id);
  return rows.length;
}

/** A header of a handler's result, whatever its case. */
export function headerOf(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const hit = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase());
  return hit === undefined ? undefined : String(hit[1]);
}
