/**
 * The WebSocket API through serverless-offline: ticket authentication at $connect (minted by
 * POST /v1/realtime/tickets: single use, short-lived, an API key refused), subscriptions,
 * and pushes from the worker's domain-event processing (appointment.*, slots.changed), including a
 * gone connection (410) being forgotten; in-app notices made while nobody listened reaching the next
 * subscriber once; a revoked key's sockets closed by the worker and refused meanwhile; the worker's
 * periodic sweep of socket rows API Gateway has closed.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';
import { until } from '../support/until';

const ADMIN_SECRET = 'websocket-test-admin-secret';
const TICKET_TTL_S = 5;
let offline: Offline;
let worker: Worker;

beforeAll(async () => {
  offline = await startOffline({ ADMIN_SECRET, REALTIME_TICKET_TTL_S: String(TICKET_TTL_S) });
  worker = await startWorker({ WEBSOCKET_ENDPOINT: offline.websocketUrl.replace('ws', 'http') });
}, 180_000);

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await offline?.stop('SIGINT');
  const { closeAll } = await import('../../lib/platform/lifecycle/close-all');
  await closeAll();
});

async function call(method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  headers.authorization = `Bearer ${key ?? ADMIN_SECRET}`;
  const res = await fetch(`${offline.httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

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
  const { getDb } = await import('../../lib/platform/db/client');
  return (await getDb()).socketConnection.findMany({ where: { clinicId } });
}

/** `?ticket=` for a socket of this key's clinic: minted over HTTP, good for one handshake. */
async function withTicket(key: string): Promise<string> {
  const minted = await call('POST', '/v1/realtime/tickets', key);
  expect(minted.status).toBe(201);
  return `?ticket=${encodeURIComponent(minted.body.ticket)}`;
}

describe('WebSocket API through serverless-offline', () => {
  it('refuses a connection without a valid ticket', async () => {
    await expect(open()).rejects.toThrow(/refused with 401/);
    await expect(open('?ticket=agt_nope')).rejects.toThrow(/refused with 401/);
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

    const whole = await open(await withTicket(key));
    const mine = await open(await withTicket(key));
    const elsewhere = await open(await withTicket(key));
    try {
      expect(await whole.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      expect(await mine.send({ action: 'subscribe', professionalId: pro.body.id })).toEqual({ type: 'subscribed', scope: pro.body.id });
      expect(await elsewhere.send({ action: 'subscribe', professionalId: foreignPro.body.id })).toMatchObject({ type: 'error', code: 'not_found' });
      expect(await elsewhere.send({ action: 'subscribe', professionalId: other.body.id })).toEqual({ type: 'subscribed', scope: other.body.id });
      expect(await whole.send({ action: 'ping' })).toMatchObject({ type: 'pong', profile: 'socket' });
      expect((await connections(clinicId)).map((c) => c.scope).sort()).toEqual(['clinic', pro.body.id, other.body.id].sort());

      // A row whose socket is gone without a $disconnect: the next push answers 410 and deletes it.
      const { getDb } = await import('../../lib/platform/db/client');
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

/** Whether the server closed the socket within the deadline. */
const closedWithin = (c: Client, ms: number) =>
  Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

/** How long and how often this file polls. */
const POLL = { timeoutMs: 20_000, everyMs: 100 };

describe('socket tickets', () => {
  it('are minted by any key with read, open one socket of that clinic, and never a second', async () => {
    const c = await clinicWithAgenda();
    const reader = await call('POST', '/v1/api-keys', c.key, { name: 'screen', scopes: ['read'] });
    expect(reader.status).toBe(201);
    const minted = await call('POST', '/v1/realtime/tickets', reader.body.key);
    expect(minted.status).toBe(201);
    expect(minted.body.ticket).toMatch(/^agt_/);
    expect(new Date(minted.body.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(TICKET_TTL_S * 1000);
    const query = `?ticket=${encodeURIComponent(minted.body.ticket)}`;
    const socket = await open(query);
    try {
      expect(await socket.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      const rows = await connections(c.clinicId);
      expect(rows.map((r) => r.apiKeyId)).toEqual([reader.body.id]);
      // Reused: refused, the open socket unharmed.
      await expect(open(query)).rejects.toThrow(/refused with 401/);
      expect(await socket.send({ action: 'ping' })).toMatchObject({ type: 'pong' });
    } finally {
      socket.socket.close();
    }
    // Only its hash is stored, and the redeemed row is gone.
    const { getDb } = await import('../../lib/platform/db/client');
    expect(await (await getDb()).realtimeTicket.count({ where: { apiKeyId: reader.body.id } })).toBe(0);
  });

  it('refuses an API key in ?token= or as a header, and a ticket as an API key', async () => {
    const c = await clinicWithAgenda();
    await expect(open(`?token=${encodeURIComponent(c.key)}`)).rejects.toThrow(/refused with 401/);
    const socket = new WebSocket(offline.websocketUrl, { headers: { authorization: `Bearer ${c.key}` } });
    socket.on('error', () => undefined); // the refused handshake, already answered below
    const refused = await new Promise<number>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    socket.terminate();
    expect(refused).toBe(401);
    const ticket = (await call('POST', '/v1/realtime/tickets', c.key)).body.ticket as string;
    expect((await call('GET', '/v1/clinic', ticket)).status).toBe(401);
  });

  it('expire after REALTIME_TICKET_TTL_S', async () => {
    const c = await clinicWithAgenda();
    const query = await withTicket(c.key);
    await sleep(TICKET_TTL_S * 1000 + 500);
    await expect(open(query)).rejects.toThrow(/refused with 401/);
  });

  it("die with the key that minted them: a revoked key's unused ticket is refused", async () => {
    const c = await clinicWithAgenda();
    const second = await call('POST', '/v1/api-keys', c.key, { name: 'to revoke', scopes: ['read'] });
    const query = await withTicket(second.body.key);
    expect((await call('DELETE', `/v1/api-keys/${second.body.id}`, c.key)).status).toBe(204);
    await expect(open(query)).rejects.toThrow(/refused with 401/);
  });
});

describe('in-app notices made while nobody listened', () => {
  it('reach the next subscriber after its "subscribed", once however many subscribe at the same time', async () => {
    const c = await clinicWithAgenda();
    const { getDb } = await import('../../lib/platform/db/client');
    const db = await getDb();
    const startsAt = new Date(Date.now() + 4 * 86_400_000);
    startsAt.setUTCMinutes(0, 0, 0);
    const booked = await call('POST', '/v1/appointments', c.key, { professionalId: c.professionalId, patientId: c.patientId, startsAt: startsAt.toISOString() });
    expect(booked.status).toBe(201);
    // The worker records the in-app confirmation; no socket is there to take it.
    const notice = await until(
      'the in-app notice',
      () => db.notification.findFirst({ where: { appointmentId: booked.body.id, channel: 'in_app' } }),
      (n) => n !== null,
      POLL,
    );
    expect(notice).toMatchObject({ status: 'pending', attempts: 0 });

    const [whole, mine] = [await open(await withTicket(c.key)), await open(await withTicket(c.key))];
    try {
      whole.socket.send(JSON.stringify({ action: 'subscribe' }));
      mine.socket.send(JSON.stringify({ action: 'subscribe', professionalId: c.professionalId }));
      const expected = { type: 'notification', notificationId: notice!.id, kind: 'confirmation', appointmentId: booked.body.id, controlId: null };
      const isNotice = (m: any) => m.type === 'notification';
      await until('a socket to get the notice', async () => [...whole.messages, ...mine.messages].some(isNotice), (v) => v, POLL);
      const status = await until(
        'the notice marked sent',
        async () => (await db.notification.findUniqueOrThrow({ where: { id: notice!.id } })).status,
        (v) => v === 'sent',
        POLL,
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
    const doomed = await open(await withTicket(second.body.key));
    const kept = await open(await withTicket(c.key));
    try {
      expect(await doomed.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      expect(await kept.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      expect((await call('DELETE', `/v1/api-keys/${second.body.id}`, c.key)).status).toBe(204);
      expect(await closedWithin(doomed, 30_000)).toBe(true);
      const rows = await until('one socket row left', () => connections(c.clinicId), (r) => r.length === 1, POLL);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.apiKeyId).not.toBe(second.body.id);
      // A revoked key mints no ticket, so it opens no socket.
      expect((await call('POST', '/v1/realtime/tickets', second.body.key)).status).toBe(401);
      // The clinic's other key is untouched.
      expect(await kept.send({ action: 'ping' })).toMatchObject({ type: 'pong' });
    } finally {
      for (const s of [doomed, kept]) s.socket.close();
    }
  });

  it('refuses and closes a socket whose key was revoked but which is still open', async () => {
    const c = await clinicWithAgenda();
    const second = await call('POST', '/v1/api-keys', c.key, { name: 'tablet' });
    const socket = await open(await withTicket(second.body.key));
    try {
      expect(await socket.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      // Revoked behind the API's back: no close job, as when the close failed.
      const { getDb } = await import('../../lib/platform/db/client');
      await (await getDb()).apiKey.update({ where: { id: second.body.id }, data: { revokedAt: new Date() } });
      expect(await socket.send({ action: 'ping' })).toMatchObject({ type: 'error', code: 'unauthorized' });
      expect(await closedWithin(socket, 20_000)).toBe(true);
      expect(await until('no socket row left', () => connections(c.clinicId), (r) => r.length === 0, POLL)).toEqual([]);
    } finally {
      socket.socket.close();
    }
  });
});

describe('the socket sweep', () => {
  it('runs on the worker every SOCKET_SWEEP_EVERY_MS: idle sockets are closed, rows past 2 h forgotten', async () => {
    const { getAgendaQueue } = await import('../../lib/platform/queues/queues');
    const agenda = await getAgendaQueue();
    const hourly = await until('the hourly sweep scheduler', () => agenda.getJobScheduler('sockets-sweep'), (s) => s?.every === 3_600_000, POLL);
    expect(hourly).toMatchObject({ name: 'sockets.sweep' });

    const c = await clinicWithAgenda();
    const idle = await open(await withTicket(c.key));
    let active: Client | undefined;
    try {
      expect(await idle.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      const [idleRow] = await connections(c.clinicId);
      active = await open(await withTicket(c.key));
      expect(await active.send({ action: 'subscribe' })).toEqual({ type: 'subscribed', scope: 'clinic' });
      const { getDb } = await import('../../lib/platform/db/client');
      const db = await getDb();
      // The first socket has said nothing for 16 minutes; a row from 3 hours ago never got its $disconnect.
      await db.socketConnection.update({ where: { connectionId: idleRow!.connectionId }, data: { lastSeenAt: new Date(Date.now() - 16 * 60_000) } });
      const expired = `expired${randomUUID().slice(0, 8)}=`;
      await db.socketConnection.create({
        data: { connectionId: expired, clinicId: c.clinicId, apiKeyId: idleRow!.apiKeyId, endpoint: idleRow!.endpoint, scope: 'clinic', connectedAt: new Date(Date.now() - 3 * 3_600_000) },
      });

      await worker.stop('SIGTERM');
      worker = await startWorker({ WEBSOCKET_ENDPOINT: offline.websocketUrl.replace('ws', 'http'), SOCKET_SWEEP_EVERY_MS: '1000' });
      // /health answers before the schedulers are upserted, so the new period is polled for.
      await until('the sweep scheduler at 1 s', () => agenda.getJobScheduler('sockets-sweep'), (s) => s?.every === 1_000, POLL);

      // The idle socket is closed for real, both stale rows are gone; the active socket still answers.
      expect(await closedWithin(idle, 30_000)).toBe(true);
      const rows = await until('one socket row left', () => connections(c.clinicId), (r) => r.length === 1, POLL);
      expect(rows).toHaveLength(1);
      expect([idleRow!.connectionId, expired]).not.toContain(rows[0]!.connectionId);
      expect(await active.send({ action: 'ping' })).toMatchObject({ type: 'pong' });
    } finally {
      for (const s of [idle, active]) s?.socket.close();
    }
  });
});
