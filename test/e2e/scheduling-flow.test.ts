import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DateTime } from 'luxon';
import { TEST_REDIS_URL } from '../setup/test-env';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { until } from '../support/until';

/**
 * The whole scheduling flow as a client sees it: real `serverless offline` over real HTTP, from
 * creating a clinic to cancelling a booking, with the reminder jobs read straight from the agenda
 * queue (same Redis, same QUEUE_PREFIX), where the worker puts them when it processes each
 * booking's events.
 */

const ADMIN_SECRET = `flow-admin-${randomUUID()}`;
const QUEUE_PREFIX = `test-flow-${randomUUID().slice(0, 8)}`;
const ZONE = 'America/Sao_Paulo';
const OFFSETS = [1440, 120];

let offline: Offline;
let worker: Worker | undefined;
let smtp: SmtpSink | undefined;
let redis: Redis;
let queue: Queue;

beforeAll(async () => {
  offline = await startOffline({ ADMIN_SECRET, QUEUE_PREFIX });
  smtp = await startSmtpSink(); // the booking's notices go here, not to whatever listens on 1025
  worker = await startWorker({ QUEUE_PREFIX, SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue('agenda', { connection: redis, prefix: QUEUE_PREFIX });
  await queue.waitUntilReady();
}, 150_000);

afterAll(async () => {
  await worker?.stop('SIGTERM').catch(() => undefined);
  for (const name of ['agenda', 'notification', 'webhook', 'renovacao']) {
    const q = name === 'agenda' ? queue : new Queue(name, { connection: redis, prefix: QUEUE_PREFIX });
    await q?.obliterate({ force: true }).catch(() => undefined);
    await q?.close().catch(() => undefined);
  }
  await redis?.quit().catch(() => undefined);
  await offline?.stop('SIGINT');
  await smtp?.close();
}, 60_000);

interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

async function call(method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', 'accept-language': 'en', ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${offline.httpUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '' && /json/i.test(res.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A local wall-clock time `days` from today in the clinic's zone. */
const localAt = (days: number, hour: number, minute = 0) =>
  DateTime.now().setZone(ZONE).plus({ days }).set({ hour, minute, second: 0, millisecond: 0 });

/** The reminder jobs of an appointment, by offset. */
async function reminders(appointmentId: string) {
  const out: Record<number, Awaited<ReturnType<Queue['getJob']>>> = {};
  for (const offset of OFFSETS) out[offset] = await queue.getJob(`reminder:${appointmentId}:${offset}`);
  return out;
}

/** Reminders follow each event once the worker processed it, after the response: poll. */
const POLL = { timeoutMs: 30_000, everyMs: 100 };

function expectReminderAt(job: Awaited<ReturnType<Queue['getJob']>>, appointmentId: string, offset: number, startsAt: Date) {
  expect(job).toBeDefined();
  expect(job!.name).toBe('appointment.reminder');
  expect(job!.data).toEqual({ appointmentId, offsetMinutes: offset, startsAt: startsAt.toISOString() });
  const fireAt = startsAt.getTime() - offset * 60_000;
  expect(Math.abs(job!.timestamp + job!.delay - fireAt)).toBeLessThanOrEqual(5_000);
}

describe('scheduling flow through serverless-offline', () => {
  it('serves the OpenAPI document and the docs page', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(() => JSON.parse(doc.text)).not.toThrow();
    expect(doc.body.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/appointments', '/v1/professionals/{id}/slots']));

    const docs = await call('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    expect(docs.text).toMatch(/<html/i);
    expect(docs.text).toContain('/v1/appointments');
  });

  it('clinic -> professional -> hours -> patient -> control -> book -> reschedule -> cancel', async () => {
    // Clinic and its first key, through the admin route.
    const noAdmin = await call('POST', '/admin/clinics', { body: { name: 'Flow clinic' } });
    expect(noAdmin.status).toBe(401);
    const clinic = await call('POST', '/admin/clinics', {
      body: { name: `Clínica Fluxo ${randomUUID().slice(0, 6)}`, timeZone: ZONE },
      headers: { authorization: `Bearer ${ADMIN_SECRET}` },
    });
    expect(clinic.status).toBe(201);
    const key: string = clinic.body.apiKey.key;
    expect(key).toMatch(/^agk_[a-z0-9]{12}_/);
    expect((await call('GET', '/v1/clinic', { key })).body).toMatchObject({ id: clinic.body.clinic.id, timeZone: ZONE });

    // Professional, working every day, all day: the test does not depend on when it runs.
    const pro = await call('POST', '/v1/professionals', { key, body: { name: 'Dra. Fluxo', specialty: 'cardiology', defaultDurationMinutes: 30 } });
    expect(pro.status).toBe(201);
    const proId: string = pro.body.id;
    const hours = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '00:00', end: '24:00' }));
    const put = await call('PUT', `/v1/professionals/${proId}/working-hours`, { key, body: hours });
    expect(put.status).toBe(200);
    expect(put.body.data).toHaveLength(7);

    const patient = await call('POST', '/v1/patients', { key, body: { name: 'Paciente Fluxo', email: 'fluxo@example.com', phone: '+55 11 91234-5678' } });
    expect(patient.status).toBe(201);
    const patientId: string = patient.body.id;

    const control = await call('POST', '/v1/controls', { key, body: { patientId, sessionsTotal: 3, validUntil: localAt(30, 12).toISODate() } });
    expect(control.status).toBe(201);
    const controlId: string = control.body.id;
    expect(control.body).toMatchObject({ sessionsTotal: 3, sessionsUsed: 0, sessionsRemaining: 3, status: 'active' });

    // Slots on the chosen day contain the chosen start.
    const start = localAt(3, 10);
    const startIso = start.toISO({ suppressMilliseconds: true })!;
    const startUtc = start.toJSDate().toISOString();
    const day = start.toISODate()!;
    const nextDay = start.plus({ days: 1 }).toISODate()!;
    const slotsPath = `/v1/professionals/${proId}/slots?from=${day}&to=${nextDay}`;
    const slotStarts = async () => {
      const res = await call('GET', slotsPath, { key });
      expect(res.status).toBe(200);
      return (res.body.slots as { startUtc: string }[]).map((s) => s.startUtc);
    };
    expect(await slotStarts()).toContain(startUtc);

    // Book with the control and an Idempotency-Key; the retry replays the same appointment.
    const booking = { professionalId: proId, patientId, startsAt: startIso, controlId };
    const idem = { 'idempotency-key': `flow-${randomUUID()}` };
    const booked = await call('POST', '/v1/appointments', { key, body: booking, headers: idem });
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ professionalId: proId, patientId, controlId, startsAt: startUtc, status: 'scheduled' });
    const id: string = booked.body.id;
    const replay = await call('POST', '/v1/appointments', { key, body: booking, headers: idem });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(id);

    // Reminders: one delayed job per offset, due `offset` minutes before the start.
    const created = await until('the reminder jobs', () => reminders(id), (r) => OFFSETS.every((o) => r[o]), POLL);
    for (const o of OFFSETS) {
      expectReminderAt(created[o], id, o, new Date(startUtc));
      expect(await created[o]!.getState()).toBe('delayed');
    }

    // The slot is gone; booking it again is a conflict.
    expect(await slotStarts()).not.toContain(startUtc);
    const again = await call('POST', '/v1/appointments', { key, body: { ...booking, controlId: undefined } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', message: expect.any(String) });

    // Reschedule: history keeps the previous time, reminders move.
    const moved = localAt(4, 14, 30);
    const movedUtc = moved.toJSDate().toISOString();
    const re = await call('POST', `/v1/appointments/${id}/reschedule`, { key, body: { startsAt: moved.toISO({ suppressMilliseconds: true }) } });
    expect(re.status).toBe(200);
    expect(re.body).toMatchObject({ id, startsAt: movedUtc, status: 'scheduled' });
    const one = await call('GET', `/v1/appointments/${id}`, { key });
    expect(one.status).toBe(200);
    const rescheduled = (one.body.history as { action: string; previousStartsAt?: string }[]).find((h) => h.action === 'rescheduled');
    expect(rescheduled).toMatchObject({ previousStartsAt: startUtc });
    const movedJobs = await until('the reminders moved', () => reminders(id), (r) => OFFSETS.every((o) => r[o]?.data.startsAt === movedUtc), POLL);
    for (const o of OFFSETS) {
      expectReminderAt(movedJobs[o], id, o, new Date(movedUtc));
      expect(movedJobs[o]!.delay).not.toBe(created[o]!.delay);
    }
    // The old time is free again.
    expect(await slotStarts()).toContain(startUtc);

    // One session of the package is used.
    expect((await call('GET', `/v1/controls/${controlId}`, { key })).body).toMatchObject({ sessionsUsed: 1, sessionsRemaining: 2 });

    // Cancel: session back, reminders gone, slot free.
    const cancelled = await call('POST', `/v1/appointments/${id}/cancel`, { key, body: { reason: 'paciente pediu' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id, status: 'cancelled', cancelReason: 'paciente pediu' });
    expect((await call('GET', `/v1/controls/${controlId}`, { key })).body).toMatchObject({ sessionsUsed: 0, sessionsRemaining: 3, status: 'active' });
    const gone = await until('the reminders removed', () => reminders(id), (r) => OFFSETS.every((o) => !r[o]), POLL);
    for (const o of OFFSETS) expect(gone[o]).toBeUndefined();

    const movedDay = moved.toISODate()!;
    const movedSlots = await call('GET', `/v1/professionals/${proId}/slots?from=${movedDay}&to=${moved.plus({ days: 1 }).toISODate()}`, { key });
    expect(movedSlots.status).toBe(200);
    expect((movedSlots.body.slots as { startUtc: string }[]).map((s) => s.startUtc)).toContain(movedUtc);

    // The slot can be booked again by someone else.
    const rebook = await call('POST', '/v1/appointments', { key, body: { professionalId: proId, patientId, startsAt: startIso } });
    expect(rebook.status).toBe(201);
  });
});
