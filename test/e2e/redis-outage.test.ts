/**
 * Redis stopped mid-run, through the real processes: `serverless offline` and the worker
 * share a scratch redis-server (persistent, as a production Redis holding BullMQ's queues is; the
 * shared server is never touched). While it is stopped: slots 200 (computed from PostgreSQL), a
 * booking 201 and the same slot 409, each within 3 s and none a Lambda timeout (serverless-offline
 * answers those as 200 with `errorType: LambdaTimeoutError`, hence the body checks). Once Redis is
 * back, the worker's relay publishes the booking's event and its webhook (counted by `webhook-id`),
 * e-mail and WebSocket push each arrive exactly once, and no slot list cached before the outage is
 * served with the booked slot free.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import WebSocket from 'ws';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';
import { startScratchRedis, type ScratchRedis } from '../support/redis-server';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { httpCall, type HttpAnswer, socketUrlFor } from '../support/http-call';
import { until } from '../support/until';

const ADMIN_SECRET = `outage-admin-${randomUUID()}`;
const ZONE = 'America/Sao_Paulo';
const BOUND_MS = 3_000;

let receiver: WebhookReceiver;
/** Every webhook request the receiver got: its `webhook-id` and event type. */
const hooks = () => receiver.hooks.map((h) => ({ id: String(h.headers['webhook-id']), type: (JSON.parse(h.body) as { type: string }).type }));
let redis: ScratchRedis | undefined;
let smtp: SmtpSink | undefined;
let offline: Offline | undefined;
let worker: Worker | undefined;
let socket: WebSocket | undefined;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  smtp = await startSmtpSink();
  redis = await startScratchRedis([], { persistent: true });
  offline = await startOffline({ ADMIN_SECRET, REDIS_URL: redis.url, WEBHOOKS_ALLOW_LOOPBACK: 'true' });
  worker = await startWorker({
    REDIS_URL: redis.url,
    WEBHOOKS_ALLOW_LOOPBACK: 'true',
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    WEBSOCKET_ENDPOINT: offline.websocketUrl.replace(/^ws/, 'http'),
    OUTBOX_RELAY_EVERY_MS: '1000',
  });
}, 200_000);

afterAll(async () => {
  socket?.terminate();
  await worker?.stop('SIGTERM').catch(() => undefined);
  await offline?.stop('SIGINT').catch(() => undefined);
  await receiver?.close();
  await smtp?.close();
  await redis?.remove();
}, 90_000);

type Answer = HttpAnswer;

const call = (method: string, path: string, key: string, body?: unknown) => httpCall(offline!.httpUrl, method, path, key, body);

/** A request while Redis is down: within the bound, and a real answer, not a Lambda timeout. */
async function duringOutage(what: string, answer: Promise<Answer>): Promise<Answer> {
  const res = await answer;
  expect({ what, errorType: res.body?.errorType, inTime: res.ms < BOUND_MS, ms: res.ms }).toMatchObject({ what, errorType: undefined, inTime: true });
  return res;
}

/** Waits for what the worker and offline do in their own time; a timeout shows their recent output. */
const untilSeen = <T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 90_000) =>
  until(what, read, ok, { timeoutMs, context: () => `--- worker ---\n${worker?.output().slice(-2500)}\n--- offline ---\n${offline?.output().slice(-2500)}` });

it('slots 200, booking 201 and 409 with Redis stopped; once it is back, each webhook, e-mail and push arrives once', async () => {
  // Set up over HTTP with Redis up.
  const clinic = await call('POST', '/admin/clinics', ADMIN_SECRET, { name: `Clínica Queda ${randomUUID().slice(0, 6)}`, timeZone: ZONE });
  expect(clinic.status).toBe(201);
  const key: string = clinic.body.apiKey.key;
  const pro = await call('POST', '/v1/professionals', key, { name: 'Dra. Queda', specialty: 'cardiology', defaultDurationMinutes: 30 });
  expect(pro.status).toBe(201);
  const hours = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '08:00', end: '20:00' }));
  expect((await call('PUT', `/v1/professionals/${pro.body.id}/working-hours`, key, hours)).status).toBe(200);
  const email = `queda-${randomUUID().slice(0, 8)}@example.com`;
  const patient = await call('POST', '/v1/patients', key, { name: 'Paciente Queda', email });
  expect(patient.status).toBe(201);
  expect((await call('POST', '/v1/webhooks', key, { url: `${receiver.url}/agenda`, eventTypes: ['appointment.created'] })).status).toBe(201);
  const pushes: { type: string; appointmentId?: string }[] = [];
  socket = new WebSocket(await socketUrlFor(offline!.httpUrl, offline!.websocketUrl, key));
  socket.on('message', (data) => pushes.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => socket!.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ action: 'subscribe' }));
  await untilSeen('subscription ack', () => pushes, (m) => m.some((x) => x.type === 'subscribed'), 30_000);

  const day = DateTime.now().setZone(ZONE).plus({ days: 3 }).startOf('day');
  const slotsPath = `/v1/professionals/${pro.body.id}/slots?from=${day.toISODate()}&to=${day.plus({ days: 1 }).toISODate()}`;
  const at = (hour: number) => day.set({ hour }).toISO()!;
  const utc = (hour: number) => day.set({ hour }).toUTC().toISO()!;
  const slotStarts = (res: Answer) => (res.body.slots as { startUtc: string }[]).map((s) => s.startUtc);
  const book = (hour: number) => call('POST', '/v1/appointments', key, { professionalId: pro.body.id, patientId: patient.body.id, startsAt: at(hour) });

  // Warm the functions (a cold one pays its start-up on a shared 2-core machine) and cache the slots.
  const warm = await book(9);
  expect(warm.status).toBe(201);
  expect((await book(9)).status).toBe(409);
  await untilSeen('warm-up webhook', hooks, (h) => h.length === 1);
  expect((await call('GET', slotsPath, key)).status).toBe(200);
  const cached = await call('GET', slotsPath, key);
  expect(cached.headers.get('x-cache')).toBe('hit');
  expect(slotStarts(cached)).toContain(utc(10));

  // --- Redis stops ---
  await redis!.stop();
  const slots = await duringOutage('slots', call('GET', slotsPath, key));
  expect(slots.status).toBe(200);
  expect(slots.headers.get('x-cache')).toBe('bypass');
  expect(slotStarts(slots)).toContain(utc(10));
  const booked = await duringOutage('booking', book(10));
  expect(booked.status).toBe(201);
  expect(booked.body).toMatchObject({ status: 'scheduled', startsAt: utc(10) });
  const taken = await duringOutage('same slot', book(10));
  expect(taken.status).toBe(409);
  expect(taken.body.error).toMatchObject({ code: 'conflict' });
  const after = await duringOutage('slots after the booking', call('GET', slotsPath, key));
  expect(after.status).toBe(200);
  expect(slotStarts(after)).not.toContain(utc(10));
  console.info(`redis-outage (e2e): with Redis stopped, slots ${slots.ms} ms, booking ${booked.ms} ms, 409 ${taken.ms} ms, slots ${after.ms} ms`);
  await sleep(2_000); // nothing can go out meanwhile
  expect(hooks()).toHaveLength(1);

  // --- Redis is back (same port, same data) ---
  await redis!.start();
  // The list cached before the outage never comes back with the booked slot free.
  for (let i = 0; i < 5; i += 1) {
    const back = await call('GET', slotsPath, key);
    expect({ status: back.status, errorType: back.body?.errorType }).toEqual({ status: 200, errorType: undefined });
    expect(slotStarts(back)).not.toContain(utc(10));
    await sleep(300);
  }

  const apptId: string = booked.body.id;
  await untilSeen('webhook of the booking', hooks, (h) => h.length === 2);
  await untilSeen('e-mails', () => smtp!.inbox.filter((m) => m.to === email), (m) => m.length === 2);
  await untilSeen('push of the booking', () => pushes, (p) => p.some((m) => m.type === 'appointment.created' && m.appointmentId === apptId));
  await sleep(4_000); // several relay passes later: nothing went out again

  expect(hooks().map((h) => h.type)).toEqual(['appointment.created', 'appointment.created']);
  expect(new Set(hooks().map((h) => h.id)).size).toBe(2); // two events, each delivered once
  const mails = smtp!.inbox.filter((m) => m.to === email).map((m) => m.mail.subject);
  expect(mails).toHaveLength(2);
  expect(new Set(mails).size).toBe(2); // one confirmation per booking
  const created = pushes.filter((m) => m.type === 'appointment.created');
  expect(created.map((m) => m.appointmentId).sort()).toEqual([warm.body.id, apptId].sort());
  expect(worker!.proc.exitCode).toBeNull(); // the worker rode the outage out
  const last = await call('GET', slotsPath, key);
  expect(slotStarts(last)).not.toContain(utc(10));
}, 300_000);
