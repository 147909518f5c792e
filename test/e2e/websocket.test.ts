/**
 * The WebSocket API through serverless-offline: API-key authentication at $connect, subscriptions,
 * and pushes from the worker's domain-event processing (appointment.*, slots.changed), including a
 * gone connection (410) being forgotten; in-app notices made while nobody listened reaching the next
 * subscriber once; a revoked key's sockets closed by the worker and refused meanwhile; the worker's
 * periodic sweep of socket rows API Gateway has closed.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';

const ADMIN_SECRET = 'websocket-test-admin-secret';
let offline: Offline;
let worker: Worker;

beforeAll(async () => {
  offline = await startOffline({ ADMIN_SECRET });
  worker = await startWorker({ WEBSOCKET_ENDPOINT: offline.websocketUrl.replace('ws', 'http') });
}, 180_000);

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await offline?.stop('SIGINT');
  const { closeAll } = await import('../../lib/lifecycle/close-all');
  await closeAll();
});

async function call(method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  headers.authorization = `Bearer ${key ?? ADMIN_SECRET}`;
  const res = await fetch(`${offline.httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Client {
  socket: WebSocket;
  messages: any[];
  /** Resolves when the server closed the socket (or it was closed). */
  closed: Promise<void>;
  send(payload: unknown): Promise<any>;
  waitFor(pred: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

/** Opens a socket; resolves to the client, or rejects with the handshake failure. */
async function open(query = ''): Promise<Client> {
  const socket = new WebSocket(`${offline.websocketUrl}${query}`);
  const messages: any[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve).once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
  });
  const waitFor = async (pred: (m: any) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(pred);
      if (found || Date.now() > deadline) return found;
      await sleep(50);
    }
  };
  return {
    socket,
    messages,
    closed,
    waitFor,
    async send(payload) {
      const before = messages.length;
      socket.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
      const deadline = Date.now() + 20_000;
      while (messages.length === before && Date.now() < deadline) await sleep(50);
      return messages[before];
    },
  };
}

async function connections(clinicId: string) {
  const { getDb } = await import('../../lib/db/client');
  return (await getDb()).socketConnection.findMany({ where: { clinicId } });
}

describe('WebSocket API through serverless-offline', () => {
  it('refuses a connection without a valid API key', async () => {
    await expect(open()).rejects.toThrow(/refused with 401/);
    await expect(open('?token=agk_nope_nope')).rejects.toThrow(/refused with 401/);
  });

  it('pushes appointment and slot changes to subscribed sockets; forgets gone connections', async () => {
    const clinic = await call('POST', '/admin/clinics', null, { name: `WS ${randomUUID().slice(0, 6)}`, timeZone: 'America/Sao_Paulo' });
    expect(clinic.status).toBe(201);
    const key: string = clinic.body.apiKey.key;
    const clinicId: string = clinic.body.clinic.id;
    const hours = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '00:00', end: '24:00' }));
    const pro = await call('POST', '/v1/professionals', key, { name: 'Dra. Socket', specialty: 'cardiology', defaultDurationMinutes: 30 });
    const other = await call('POST', '/v1/professionals', key, { name: 'Dr. Outro', specialty: 'cardiology', defaultDurationMinutes: 30 });
    expect([pro.status, other.status]).toEqual([201, 201]);
    for (const id of [pro.body.id, other.body.id]) expect((await call('PUT', `/v1/professionals/${id}/working-hours`, key, hours)).status).toBe(200);
    const patient = await call('POST', '/v1/patients', key, { name: 'Paciente Socket', email: 'socket@example.com' });
    expect(patient.status).toBe(201);

    // Another clinic's professional is not found.
    const foreign = await call('POST', '/admin/clinics', null, { name: `WS other ${randomUUID().slice(0, 6)}` });
    const foreignPro = await call('POST', '/v1/professionals', foreign.body.apiKey.key, { name: 'Dr. Alheio', specialty: 'x', defaultDurationMinutes: 30 });
    expect(foreignPro.status).toBe(201);

    const whole = await open(`?token=${encodeURIComponent(key)}`);
    const mine = await open(`?token=${encodeURIComponent(key)}`);
    const elsewhere = await open(`?token=${encodeURIComponent(key)}`);
    try {
      expect(await whole.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      expect(await mine.send({ action: 'subscribe', professionalId: pro.body.id })).toEqual({ type: 'subscribed', scope: pro.body.id });
      expect(await elsewhere.send({ action: 'subscribe', professionalId: foreignPro.body.id })).toMatchObject({ type: 'error', code: 'not_found' });
      expect(await elsewhere.send({ action: 'subscribe', professionalId: other.body.id })).toEqual({ type: 'subscribed', scope: other.body.id });
      expect(await whole.send({ action: 'ping' })).toMatchObject({ type: 'pong', profile: 'socket' });
      expect((await connections(clinicId)).map((c) => c.scope).sort()).toEqual(['clinic', pro.body.id, other.body.id].sort());

      // A row whose socket is gone without a $disconnect: the next push answers 410 and deletes it.
      const { getDb } = await import('../../lib/db/client');
      const db = await getDb();
      const ghost = `ghost${randomUUID().slice(0, 8)}=`;
      await db.socketConnection.create({
        data: { connectionId: ghost, clinicId, apiKeyId: (await connections(clinicId))[0]!.apiKeyId, endpoint: 'https://localhost/', scope: 'clinic' },
      });

      // A booking through the HTTP API; the worker processes its domain event.
      const startsAt = new Date(Date.now() + 3 * 86_400_000);
      startsAt.setUTCMinutes(0, 0, 0);
      const booked = await call('POST', '/v1/appointments', key, { professionalId: pro.body.id, patientId: patient.body.id, startsAt: startsAt.toISOString() });
      expect(booked.status).toBe(201);
      const apptId: string = booked.body.id;

      const created = { type: 'appointment.created', appointmentId: apptId, professionalId: pro.body.id, startsAt: startsAt.toISOString(), status: 'scheduled' };
      for (const client of [whole, mine]) {
        expect(await client.waitFor((m) => m.type === 'appointment.created')).toEqual(created);
        expect(await client.waitFor((m) => m.type === 'slots.changed')).toEqual({ type: 'slots.changed', professionalId: pro.body.id });
        // No patient data in the push.
        expect(JSON.stringify(client.messages)).not.toContain('Paciente Socket');
      }
      // The in-app confirmation (pending -> sent once a socket received it).
      expect(await whole.waitFor((m) => m.type === 'notification')).toEqual({
        type: 'notification',
        notificationId: expect.any(String),
        kind: 'confirmation',
        appointmentId: apptId,
        controlId: null,
      });
      const noticeStatus = async () => (await db.notification.findFirst({ where: { appointmentId: apptId, channel: 'in_app' } }))?.status;
      for (let i = 0; i < 50 && (await noticeStatus()) !== 'sent'; i++) await sleep(100); // marked right after the push
      expect(await noticeStatus()).toBe('sent');

      // The socket subscribed to another professional heard nothing about it.
      await sleep(1_000);
      expect(elsewhere.messages.filter((m) => m.type !== 'subscribed' && m.type !== 'error')).toEqual([]);
      // The ghost is forgotten.
      expect(await db.socketConnection.findUnique({ where: { connectionId: ghost } })).toBeNull();

      // A closed socket: $disconnect deletes its row.
      mine.socket.close();
      const deadline = Date.now() + 10_000;
      while ((await connections(clinicId)).length > 2 && Date.now() < deadline) await sleep(100);
      expect((await connections(clinicId)).map((c) => c.scope).sort()).toEqual(['clinic', other.body.id].sort());
    } finally {
      for (const c of [whole, mine, elsewhere]) c.socket.close();
    }
  });
});

/** A clinic through the HTTP API, with a professional working all week and a patient. */
async function clinicWithAgenda() {
  const clinic = await call('POST', '/admin/clinics', null, { name: `WS ${randomUUID().slice(0, 6)}`, timeZone: 'America/Sao_Paulo' });
  expect(clinic.status).toBe(201);
  const key: string = clinic.body.apiKey.key;
  const pro = await call('POST', '/v1/professionals', key, { name: 'Dra. Socket', specialty: 'cardiology', defaultDurationMinutes: 30 });
  const hours = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '00:00', end: '24:00' }));
  expect((await call('PUT', `/v1/professionals/${pro.body.id}/working-hours`, key, hours)).status).toBe(200);
  const patient = await call('POST', '/v1/patients', key, { name: 'Paciente Socket', email: 'socket@example.com' });
  expect(patient.status).toBe(201);
  return { key, clinicId: clinic.body.clinic.id as string, professionalId: pro.body.id as string, patientId: patient.body.id as string };
}

const withToken = (key: string) => `?token=${encodeURIComponent(key)}`;
/** Whether the server closed the socket within the deadline. */
const closedWithin = (c: Client, ms: number) =>
  Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(100);
    value = await read();
  }
  return value;
}

describe('in-app notices made while nobody listened', () => {
  it('reach the next subscriber after its "subscribed", once however many subscribe at the same time', async () => {
    const c = await clinicWithAgenda();
    const { getDb } = await import('../../lib/db/client');
    const db = await getDb();
    const startsAt = new Date(Date.now() + 4 * 86_400_000);
    startsAt.setUTCMinutes(0, 0, 0);
    const booked = await call('POST', '/v1/appointments', c.key, { professionalId: c.professionalId, patientId: c.patientId, startsAt: startsAt.toISOString() });
    expect(booked.status).toBe(201);
    // The worker records the in-app confirmation; no socket is there to take it.
    const notice = await until(
      () => db.notification.findFirst({ where: { appointmentId: booked.body.id, channel: 'in_app' } }),
      (n) => n !== null,
    );
    expect(notice).toMatchObject({ status: 'pending', attempts: 0 });

    const [whole, mine] = [await open(withToken(c.key)), await open(withToken(c.key))];
    try {
      whole.socket.send(JSON.stringify({ action: 'subscribe' }));
      mine.socket.send(JSON.stringify({ action: 'subscribe', professionalId: c.professionalId }));
      const expected = { type: 'notification', notificationId: notice!.id, kind: 'confirmation', appointmentId: booked.body.id, controlId: null };
      const isNotice = (m: any) => m.type === 'notification';
      await until(async () => [...whole.messages, ...mine.messages].some(isNotice), (v) => v);
      const status = await until(
        async () => (await db.notification.findUniqueOrThrow({ where: { id: notice!.id } })).status,
        (v) => v === 'sent',
      );
      expect(status).toBe('sent');
      await sleep(1_500); // room for a second push, were there one
      const received = [...whole.messages, ...mine.messages].filter(isNotice);
      expect(received).toEqual([expected]);
      const receiver = whole.messages.some(isNotice) ? whole : mine;
      expect(receiver.messages.map((m) => m.type)).toEqual(['subscribed', 'notification']);
      expect(await db.notification.findUniqueOrThrow({ where: { id: notice!.id } })).toMatchObject({ status: 'sent', attempts: 1, sentAt: expect.any(Date) });
    } finally {
      for (const s of [whole, mine]) s.socket.close();
    }
  });
});

describe('revoking an API key', () => {
  it("closes the key's sockets through the worker, and the key can no longer connect", async () => {
    const c = await clinicWithAgenda();
    const second = await call('POST', '/v1/api-keys', c.key, { name: 'front desk' });
    expect(second.status).toBe(201);
    const doomed = await open(withToken(second.body.key));
    const kept = await open(withToken(c.key));
    try {
      expect(await doomed.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      expect(await kept.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      expect((await call('DELETE', `/v1/api-keys/${second.body.id}`, c.key)).status).toBe(204);
      expect(await closedWithin(doomed, 30_000)).toBe(true);
      const rows = await until(() => connections(c.clinicId), (r) => r.length === 1);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.apiKeyId).not.toBe(second.body.id);
      await expect(open(withToken(second.body.key))).rejects.toThrow(/refused with 401/);
      // The clinic's other key is untouched.
      expect(await kept.send({ action: 'ping' })).toMatchObject({ type: 'pong' });
    } finally {
      for (const s of [doomed, kept]) s.socket.close();
    }
  });

  it('refuses and closes a socket whose key was revoked but which is still open', async () => {
    const c = await clinicWithAgenda();
    const second = await call('POST', '/v1/api-keys', c.key, { name: 'tablet' });
    const socket = await open(withToken(second.body.key));
    try {
      expect(await socket.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      // Revoked behind the API's back: no close job, as when the close failed.
      const { getDb } = await import('../../lib/db/client');
      await (await getDb()).apiKey.update({ where: { id: second.body.id }, data: { revokedAt: new Date() } });
      expect(await socket.send({ action: 'ping' })).toMatchObject({ type: 'error', code: 'unauthorized' });
      expect(await closedWithin(socket, 20_000)).toBe(true);
      expect(await until(() => connections(c.clinicId), (r) => r.length === 0)).toEqual([]);
    } finally {
      socket.socket.close();
    }
  });
});

describe('the socket sweep', () => {
  it('runs on the worker every SOCKET_SWEEP_EVERY_MS: idle sockets are closed, rows past 2 h forgotten', async () => {
    const { getAgendaQueue } = await import('../../lib/queues/queues');
    const agenda = await getAgendaQueue();
    expect(await agenda.getJobScheduler('sockets-sweep')).toMatchObject({ name: 'sockets.sweep', every: 3_600_000 });

    const c = await clinicWithAgenda();
    const idle = await open(withToken(c.key));
    let active: Client | undefined;
    try {
      expect(await idle.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      const [idleRow] = await connections(c.clinicId);
      active = await open(withToken(c.key));
      expect(await active.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      const { getDb } = await import('../../lib/db/client');
      const db = await getDb();
      // The first socket has said nothing for 16 minutes; a row from 3 hours ago never got its $disconnect.
      await db.socketConnection.update({ where: { connectionId: idleRow!.connectionId }, data: { lastSeenAt: new Date(Date.now() - 16 * 60_000) } });
      const expired = `expired${randomUUID().slice(0, 8)}=`;
      await db.socketConnection.create({
        data: { connectionId: expired, clinicId: c.clinicId, apiKeyId: idleRow!.apiKeyId, endpoint: idleRow!.endpoint, scope: 'clinic', connectedAt: new Date(Date.now() - 3 * 3_600_000) },
      });

      await worker.stop('SIGTERM');
      worker = await startWorker({ WEBSOCKET_ENDPOINT: offline.websocketUrl.replace('ws', 'http'), SOCKET_SWEEP_EVERY_MS: '1000' });
      expect(await agenda.getJobScheduler('sockets-sweep')).toMatchObject({ every: 1_000 });

      // The idle socket is closed for real, both stale rows are gone; the active socket still answers.
      expect(await closedWithin(idle, 30_000)).toBe(true);
      const rows = await until(() => connections(c.clinicId), (r) => r.length === 1);
      expect(rows).toHaveLength(1);
      expect([idleRow!.connectionId, expired]).not.toContain(rows[0]!.connectionId);
      expect(await active.send({ action: 'ping' })).toMatchObject({ type: 'pong' });
    } finally {
      for (const s of [idle, active]) s?.socket.close();
    }
  });
});
