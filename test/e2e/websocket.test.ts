/**
 * The WebSocket API through serverless-offline: API-key authentication at $connect, subscriptions,
 * and pushes from the worker's domain-event processing (appointment.*, slots.changed), including a
 * gone connection (410) being forgotten.
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
  const { getDb } = await import('../../lib/db/client');
  await (await getDb()).$disconnect?.();
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
  send(payload: unknown): Promise<any>;
  waitFor(pred: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

/** Opens a socket; resolves to the client, or rejects with the handshake failure. */
async function open(query = ''): Promise<Client> {
  const socket = new WebSocket(`${offline.websocketUrl}${query}`);
  const messages: any[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
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
    await expect(open()).rejects.toThrow(/401|refused|Unexpected server response/);
    await expect(open('?token=agk_nope_nope')).rejects.toThrow(/401|refused|Unexpected server response/);
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
      expect(await whole.waitFor((m) => m.type === 'notification')).toEqual({ type: 'notification', kind: 'confirmation', appointmentId: apptId });
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
