/**
 * One booking, three outputs, through the real processes: `serverless offline` takes
 * POST /v1/appointments over HTTP, the worker (inline mode, the default) consumes the domain event,
 * and in the same run the test sees
 *  (a) a Standard Webhooks-signed `appointment.created` delivery on a local HTTP receiver,
 *  (b) the pt-BR confirmation e-mail on a real SMTP server, with the time in the clinic's zone,
 *  (c) the `appointment.created` push on a subscribed WebSocket client,
 * and both outcomes recorded: the delivery as delivered (API) and the e-mail notice as sent (DB).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DateTime } from 'luxon';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import WebSocket from 'ws';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../setup/test-env';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { httpCall, socketUrlFor } from '../support/http-call';
import { until } from '../support/until';

const ADMIN_SECRET = `outputs-admin-${randomUUID()}`;
// Not the product's default zone (São Paulo, UTC-3): Manaus is UTC-4 all year, so an e-mail
// formatted in the wrong zone shows another hour.
const ZONE = 'America/Manaus';

let receiver: WebhookReceiver;
let smtp: SmtpSink | undefined;
let pg: Client;
let offline: Offline | undefined;
let worker: Worker | undefined;
let socket: WebSocket | undefined;

beforeAll(async () => {
  receiver = await startWebhookReceiver();

  smtp = await startSmtpSink();

  pg = new Client({ connectionString: TEST_DATABASE_URL });
  await pg.connect();

  // Registration (offline) and delivery (worker) both check the receiver's loopback address.
  offline = await startOffline({ ADMIN_SECRET, WEBHOOKS_ALLOW_LOOPBACK: 'true' });
  worker = await startWorker({
    WEBHOOKS_ALLOW_LOOPBACK: 'true',
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    SMTP_FROM: 'Agenda Test <agenda@test.local>',
    WEBSOCKET_ENDPOINT: offline.websocketUrl.replace(/^ws/, 'http'),
  });
}, 200_000);

afterAll(async () => {
  socket?.terminate();
  await worker?.stop('SIGTERM').catch(() => undefined);
  await offline?.stop('SIGINT').catch(() => undefined);
  await receiver?.close();
  await smtp?.close();
  await pg?.end().catch(() => undefined);
  await dropQueueKeys();
}, 90_000);

/** The reminders this booking scheduled days ahead would otherwise stay in Redis under this file's prefix. */
async function dropQueueKeys() {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${process.env.QUEUE_PREFIX}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Best effort: the prefix is unique to this file's run.
  } finally {
    redis.disconnect();
  }
}

const call = (method: string, path: string, key: string, body?: unknown) => httpCall(offline!.httpUrl, method, path, key, body);

/** Waits for what the worker and offline do in their own time; a timeout shows their recent output. */
const untilSeen = <T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 90_000) =>
  until(what, read, ok, { timeoutMs, context: () => `--- worker ---\n${worker?.output().slice(-2000)}\n--- offline ---\n${offline?.output().slice(-2000)}` });

/** Connects with a ticket of the clinic's key and subscribes to the whole clinic. */
async function subscribedSocket(key: string, messages: any[]): Promise<WebSocket> {
  const ws = new WebSocket(await socketUrlFor(offline!.httpUrl, offline!.websocketUrl, key));
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve).once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket handshake refused with ${res.statusCode}\n${offline!.output().slice(-3000)}`)));
  });
  ws.send(JSON.stringify({ action: 'subscribe' }));
  await untilSeen('subscription ack', () => messages, (m) => m.some((x) => x.type === 'subscribed'), 30_000);
  expect(messages).toEqual([{ type: 'subscribed', scope: 'clinic' }]);
  return ws;
}

it('a booking through offline yields a signed webhook, a pt-BR e-mail and a WebSocket push, each recorded', async () => {
  // The clinic, its professional (working 08:00-20:00 local) and a patient, all over HTTP.
  const clinic = await call('POST', '/admin/clinics', ADMIN_SECRET, { name: `Clínica Saídas ${randomUUID().slice(0, 6)}`, timeZone: ZONE });
  expect(clinic.status).toBe(201);
  const key: string = clinic.body.apiKey.key;
  const clinicName: string = clinic.body.clinic.name;
  const pro = await call('POST', '/v1/professionals', key, { name: 'Dra. Ana Souza', specialty: 'cardiology', defaultDurationMinutes: 30 });
  expect(pro.status).toBe(201);
  const hours = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '08:00', end: '20:00' }));
  expect((await call('PUT', `/v1/professionals/${pro.body.id}/working-hours`, key, hours)).status).toBe(200);
  const email = `paciente-${randomUUID().slice(0, 8)}@example.com`;
  const patient = await call('POST', '/v1/patients', key, { name: 'João Pereira', email });
  expect(patient.status).toBe(201);
  // No locale given: the patient's stored default decides the e-mail's language.
  expect(patient.body.locale).toBe('pt-BR');

  const hook = await call('POST', '/v1/webhooks', key, { url: `${receiver.url}/agenda`, eventTypes: ['appointment.created'] });
  expect(hook.status).toBe(201);
  const secret: string = hook.body.secret;

  const pushes: any[] = [];
  socket = await subscribedSocket(key, pushes);

  const startsAt = DateTime.now().setZone(ZONE).plus({ days: 3 }).set({ hour: 14, minute: 30, second: 0, millisecond: 0 });
  const booked = await call('POST', '/v1/appointments', key, { professionalId: pro.body.id, patientId: patient.body.id, startsAt: startsAt.toISO() });
  expect(booked).toMatchObject({ status: 201, body: { status: 'scheduled' } });
  const apptId: string = booked.body.id;
  const startsAtUtc = startsAt.toUTC().toISO()!;

  // (a) The webhook: signed with the endpoint's secret, the created event for this appointment.
  const [req] = await untilSeen('webhook request', () => receiver.hooks, (h) => h.length > 0);
  const verified = new Webhook(secret).verify(req!.body, req!.headers as Record<string, string>);
  expect(verified).toMatchObject({ type: 'appointment.created', data: { id: apptId, appointmentId: apptId, startsAt: startsAtUtc, status: 'scheduled' } });
  // The signature binds body and secret: a changed body or another secret does not verify.
  expect(() => new Webhook(secret).verify(req!.body.replace(apptId, randomUUID()), req!.headers as Record<string, string>)).toThrow();
  expect(() => new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(req!.body, req!.headers as Record<string, string>)).toThrow();

  // (b) The e-mail: to the patient, in pt-BR, 14:30 in Manaus (18:30 UTC, 15:30 in São Paulo).
  const [mail] = await untilSeen('confirmation e-mail', () => smtp!.inbox.filter((m) => m.to === email), (m) => m.length > 0);
  const when = startsAt.setLocale('pt-BR').toFormat("cccc, d 'de' LLLL 'de' yyyy 'às' HH:mm");
  expect(when).toContain('às 14:30');
  expect(mail!.mail.to).toMatchObject({ text: expect.stringContaining(email) });
  expect(mail!.mail.subject).toBe(`Consulta agendada: ${when}`);
  expect(mail!.mail.text).toContain('Olá, João Pereira.');
  expect(mail!.mail.text).toContain(`Sua consulta com Dra. Ana Souza na ${clinicName} está agendada para ${when}.`);

  // (c) The push on the subscribed socket: the event of this appointment, no patient data.
  const push = await untilSeen('WebSocket push', () => pushes.find((m) => m.type === 'appointment.created'), (m) => m !== undefined);
  expect(push).toEqual({ type: 'appointment.created', appointmentId: apptId, professionalId: pro.body.id, startsAt: startsAtUtc, status: 'scheduled' });
  expect(JSON.stringify(pushes)).not.toContain('João');

  // Recorded: the delivery as delivered (the receiver answered before the worker wrote the outcome, hence the poll).
  const deliveries = await untilSeen(
    'delivery recorded delivered',
    async () => (await call('GET', `/v1/webhooks/${hook.body.id}/deliveries`, key)).body,
    (b) => b?.data?.[0]?.status === 'delivered',
  );
  expect(deliveries.data).toHaveLength(1);
  expect(deliveries.data[0]).toMatchObject({ id: req!.headers['webhook-id'], eventType: 'appointment.created', status: 'delivered', attempts: 1, lastStatusCode: 200 });
  expect(deliveries.data[0].attemptLog).toEqual([expect.objectContaining({ attemptNo: 1, statusCode: 200 })]);

  // Recorded: the e-mail notice as sent.
  const notice = await untilSeen(
    'e-mail notice recorded sent',
    async () =>
      (
        await pg.query<{ kind: string; status: string; attempts: number; sent_at: Date | null }>(
          "SELECT kind, status, attempts, sent_at FROM notifications WHERE appointment_id = $1 AND channel = 'email'",
          [apptId],
        )
      ).rows,
    (rows) => rows.length === 1 && rows[0]!.status === 'sent',
  );
  expect(notice[0]).toMatchObject({ kind: 'confirmation', status: 'sent', attempts: 1, sent_at: expect.any(Date) });

  // One of each, and both sends ran in the worker itself (inline), not in a job Lambda.
  expect(receiver.hooks).toHaveLength(1);
  expect(smtp!.inbox.filter((m) => m.to === email)).toHaveLength(1);
  expect(pushes.filter((m) => m.type === 'appointment.created')).toHaveLength(1);
  for (const name of ['webhook.deliver', 'notification.send']) {
    expect(worker!.output()).toMatch(new RegExp(`"job\\.completed"[^\\n]*"name":"${name.replace('.', '\\.')}"[^\\n]*"mode":"inline"`));
  }
  expect(worker!.output()).toContain('webhook.delivered');
  expect(offline!.output()).not.toContain('webhook.delivered');
}, 240_000);
