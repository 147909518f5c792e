import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { get, invoke, post } from '../support/invoke';
import { newClinic } from '../support/clinic';
import { startFakeManagementApi } from '../support/management-api';
import { useSuite } from '../support/suite';

const { fns, processor, retryPolicy, sending, endpoints, domainEvent, dbClient, queues } = useSuite({
  // Loopback receivers are allowed in this file only (the default is off); a short request timeout.
  env: { WEBHOOKS_ALLOW_LOOPBACK: 'true', WEBHOOK_TIMEOUT_MS: '800' },
  modules: {
    fns: () => import('../../functions/http/webhooks'),
    processor: () => import('../../lib/jobs/processors/webhook-deliver'),
    retryPolicy: () => import('../../lib/domain/webhooks/retry-policy'),
    sending: () => import('../../lib/domain/webhooks/delivery'),
    endpoints: () => import('../../lib/domain/webhooks/endpoints'),
    domainEvent: () => import('../../lib/jobs/processors/domain-event'),
    dbClient: () => import('../../lib/platform/db/client'),
    queues: () => import('../../lib/platform/queues/queues'),
  },
}).m;
const db = () => dbClient.getDb();

type Reply = { status?: number; body?: string; hang?: boolean; headers?: Record<string, string> };
const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
const replies: Reply[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const r = replies.shift() ?? { status: 200 };
      if (r.hang) return; // never answers
      res.writeHead(r.status ?? 200, r.headers).end(r.body ?? 'ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
  sending.setDeliveryResolverForTests(undefined);
});
beforeEach(() => {
  received.length = 0;
  replies.length = 0;
});

const patch = (h: any, path: string, id: string, body: unknown, auth: object) =>
  invoke(h, { method: 'PATCH', path, routeKey: 'PATCH /v1/webhooks/{id}', pathParameters: { id }, body, ...auth });

/** An endpoint subscribed to appointment.created, and an event for it fanned out through the real processor. */
async function setup(path = '/hook') {
  const clinic = await newClinic();
  const created = await post(fns.create, '/v1/webhooks', { url: `${base}${path}`, eventTypes: ['appointment.created'] }, clinic.auth);
  expect(created.status).toBe(201);
  const d = await db();
  const event = await d.outboxEvent.create({
    data: { clinicId: clinic.clinicId, type: 'appointment.created', aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: { professionalId: '00000000-0000-4000-8000-00000000aaaa' } },
  });
  const { processDomainEvent } = domainEvent;
  const job = { queue: 'agenda' as const, name: 'domain.event' as const, id: event.id, data: { eventId: event.id }, attemptsMade: 0, mode: 'inline' as const };
  await processDomainEvent(job);
  await processDomainEvent(job); // at-least-once: a second run adds nothing
  const deliveries = await d.webhookDelivery.findMany({ where: { eventId: event.id } });
  expect(deliveries).toHaveLength(1);
  return { clinic, endpoint: created.body, deliveryId: deliveries[0]!.id, event };
}

const run = (deliveryId: string, attemptsMade = 0) =>
  processor.processWebhookDelivery({ queue: 'webhook', name: 'webhook.deliver', id: deliveryId, data: { deliveryId }, attemptsMade, mode: 'inline' });

describe('webhook endpoints API', () => {
  it('creates with the secret shown once, lists without it, 404 across clinics, patches and deletes', async () => {
    const a = await newClinic();
    const b = await newClinic();
    const created = await post(fns.create, '/v1/webhooks', { url: `${base}/x`, eventTypes: ['*'] }, a.auth);
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const id = created.body.id;

    const list = await get(fns.list, '/v1/webhooks', a.auth);
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    const one = await invoke(fns.get, { path: `/v1/webhooks/${id}`, routeKey: 'GET /v1/webhooks/{id}', pathParameters: { id }, ...a.auth });
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();

    const other = await invoke(fns.get, { path: `/v1/webhooks/${id}`, routeKey: 'GET /v1/webhooks/{id}', pathParameters: { id }, ...b.auth });
    expect(other.status).toBe(404);
    expect((await patch(fns.update, `/v1/webhooks/${id}`, id, { enabled: false }, b.auth)).status).toBe(404);

    const changed = await patch(fns.update, `/v1/webhooks/${id}`, id, { eventTypes: ['appointment.cancelled'], enabled: false }, a.auth);
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ eventTypes: ['appointment.cancelled'], enabled: false });

    const del = (auth: object) => invoke(fns.remove, { method: 'DELETE', path: `/v1/webhooks/${id}`, routeKey: 'DELETE /v1/webhooks/{id}', pathParameters: { id }, ...auth });
    expect((await del(b.auth)).status).toBe(404);
    expect((await del(a.auth)).status).toBe(204);
    expect((await del(a.auth)).status).toBe(404);
  });

  it('refuses unknown event types and forbidden URLs with 400 on the field', async () => {
    const a = await newClinic();
    const bad = await post(fns.create, '/v1/webhooks', { url: `${base}/x`, eventTypes: ['nope'] }, a.auth);
    expect(bad.status).toBe(400);
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'ftp://example.com/', 'http://u:p@127.0.0.1/']) {
      const res = await post(fns.create, '/v1/webhooks', { url, eventTypes: ['*'] }, a.auth);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('url');
    }
  });
});

describe('webhook delivery', () => {
  it('fans out once, enqueues the delivery with its id as job id, and delivers a verifiable signature', async () => {
    const { endpoint, deliveryId, event } = await setup();
    const queue = await queues.getWebhookQueue();
    const job = await queue.getJob(deliveryId);
    expect(job?.name).toBe('webhook.deliver');
    expect(job?.data).toEqual({ deliveryId });
    await job?.remove();

    await run(deliveryId);
    expect(received).toHaveLength(1);
    const { headers, body } = received[0]!;
    expect(headers['webhook-id']).toBe(deliveryId);
    const payload = new Webhook(endpoint.secret).verify(body, headers as Record<string, string>) as any;
    expect(payload).toMatchObject({ type: 'appointment.created', data: { id: event.aggregateId, eventId: event.id } });
    const d = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { attemptLog: true } });
    expect(d).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect(d.attemptLog[0]).toMatchObject({ attemptNo: 1, statusCode: 200, responseExcerpt: 'ok' });
    // A re-run (worker crashed after sending) sends nothing again.
    await run(deliveryId);
    expect(received).toHaveLength(1);
  });

  it('500 then 200: retried, delivered, both attempts recorded with the same webhook-id; Retry-After kept', async () => {
    const { deliveryId } = await setup();
    replies.push({ status: 500, body: 'boom'.repeat(300), headers: { 'retry-after': '7' } }, { status: 200 });
    const failed = await run(deliveryId, 0).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(retryPolicy.WebhookAttemptFailedError);
    expect((failed as { retryAfterMs?: number }).retryAfterMs).toBe(7000);
    await run(deliveryId, 1);
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([deliveryId, deliveryId]);
    const d = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { attemptLog: { orderBy: { attemptNo: 'asc' } }, endpoint: true } });
    expect(d.status).toBe('delivered');
    expect(d.attemptLog.map((a) => [a.attemptNo, a.statusCode])).toEqual([[1, 500], [2, 200]]);
    expect(d.attemptLog[0]!.responseExcerpt).toHaveLength(500);
    expect(d.endpoint.failureCount).toBe(0);
    expect(d.endpoint.firstFailureAt).toBeNull();
  });

  it('a 3xx is a failure and the redirect is not followed', async () => {
    const { deliveryId } = await setup();
    replies.push({ status: 302, headers: { location: `${base}/elsewhere` } });
    await expect(run(deliveryId)).rejects.toThrow(/302/);
    expect(received).toHaveLength(1);
  });

  it('410 disables the endpoint and fails the delivery without retry', async () => {
    const { deliveryId, endpoint } = await setup();
    replies.push({ status: 410 });
    // BullMQ ends a job at once on an error of this name (its own class or the product's).
    await expect(run(deliveryId)).rejects.toHaveProperty('name', 'UnrecoverableError');
    const d = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { endpoint: true } });
    expect(d.status).toBe('failed');
    expect(d.endpoint).toMatchObject({ id: endpoint.id, enabled: false });
    expect(d.endpoint.disabledReason).toMatch(/410/);
  });

  it('a disabled endpoint is told to the clinic: one event, pushed to its clinic-wide sockets', async () => {
    const { clinic, deliveryId, endpoint } = await setup();
    replies.push({ status: 410 });
    await expect(run(deliveryId)).rejects.toThrow(/410/);
    await expect(run(deliveryId, 1)).resolves.toMatchObject({ skipped: 'failed' }); // run again: nothing more
    const d = await db();
    const events = await d.outboxEvent.findMany({ where: { clinicId: clinic.clinicId, type: 'webhook.endpoint_disabled' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ aggregateId: endpoint.id, payload: { reason: 'gone' } });

    const api = await startFakeManagementApi();
    try {
      const key = await d.apiKey.findFirstOrThrow({ where: { clinicId: clinic.clinicId } });
      const socket = (connectionId: string, scope: string) =>
        d.socketConnection.create({ data: { connectionId, clinicId: clinic.clinicId, apiKeyId: key.id, endpoint: api.endpoint, scope } });
      await socket('staff-desk', 'clinic');
      await socket('one-agenda', '00000000-0000-4000-8000-00000000aaaa');
      const { processDomainEvent } = domainEvent;
      const eventId = events[0]!.id;
      await processDomainEvent({ queue: 'agenda', name: 'domain.event', id: eventId, data: { eventId }, attemptsMade: 0, mode: 'inline' });
      expect(api.posted('staff-desk')).toEqual([{ type: 'webhook.endpoint_disabled', endpointId: endpoint.id, reason: 'gone' }]);
      expect(api.posted('one-agenda')).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('a hanging receiver: the timeout is recorded and the attempt thrown for retry', async () => {
    const { deliveryId } = await setup();
    replies.push({ hang: true });
    const thrown = await run(deliveryId).catch((e: unknown) => e);
    // Retryable: BullMQ schedules the next attempt (an UnrecoverableError would end the delivery).
    expect(thrown).toBeInstanceOf(retryPolicy.WebhookAttemptFailedError);
    expect(thrown).not.toHaveProperty('name', 'UnrecoverableError');
    expect((thrown as Error).message).toBe('timeout after 800 ms');
    const d = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { attemptLog: true } });
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(d.nextAttemptAt).not.toBeNull();
    expect(d.attemptLog).toHaveLength(1);
    expect(d.attemptLog[0]).toMatchObject({ attemptNo: 1, statusCode: null, error: 'timeout after 800 ms', responseExcerpt: null });
    expect(d.attemptLog[0]!.latencyMs).toBeGreaterThanOrEqual(700); // timers may fire a hair early
  });

  it('a Retry-After shorter than the schedule does not pull the next attempt in', async () => {
    const { deliveryId } = await setup();
    replies.push({ status: 503, headers: { 'retry-after': '0' } });
    const thrown = await run(deliveryId).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(retryPolicy.WebhookAttemptFailedError);
    expect((thrown as { retryAfterMs?: number }).retryAfterMs).toBe(0);
    const d = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { attemptLog: true } });
    // The schedule's first delay (5 s, at least 4 s with jitter), not the 0 s the receiver asked for
    // (1 ms for the database rounding the attempt's time to the millisecond).
    const wait = d.nextAttemptAt!.getTime() - d.attemptLog[0]!.createdAt.getTime();
    expect(wait).toBeGreaterThanOrEqual(retryPolicy.webhookDelay(1, deliveryId) - 1);
    expect(retryPolicy.webhookDelay(1, deliveryId)).toBeGreaterThanOrEqual(4_000);
  });

  it('refuses at send time a host that resolves to a private address only then', async () => {
    const { setWebhookResolverForTests } = endpoints;
    const clinic = await newClinic();
    setWebhookResolverForTests(async () => [{ address: '93.184.216.34', family: 4 }]); // public at registration
    const created = await post(fns.create, '/v1/webhooks', { url: 'http://rebind.example:8080/hook', eventTypes: ['*'] }, clinic.auth);
    setWebhookResolverForTests(undefined);
    expect(created.status).toBe(201);
    const d = await db();
    const delivery = await d.webhookDelivery.create({
      data: { endpointId: created.body.id, eventId: '00000000-0000-4000-8000-0000000000ee', eventType: 'control.created', payload: { type: 'control.created' } },
    });
    for (const address of ['10.0.0.5', '169.254.169.254', '::ffff:192.168.0.1']) {
      sending.setDeliveryResolverForTests(async () => [{ address, family: address.includes(':') ? 6 : 4 }]);
      await expect(run(delivery.id)).rejects.toThrow(/forbidden/);
    }
    sending.setDeliveryResolverForTests(undefined);
    const attempts = await d.webhookAttempt.findMany({ where: { deliveryId: delivery.id } });
    expect(attempts).toHaveLength(3);
    for (const a of attempts) expect(a.statusCode).toBeNull();
  });

  it('refuses at send time a literal private address stored before the rules (no lookup happens for literals)', async () => {
    const clinic = await newClinic();
    const d = await db();
    const endpoint = await d.webhookEndpoint.create({ data: { clinicId: clinic.clinicId, url: 'http://169.254.169.254/latest', eventTypes: ['*'], secret: 'whsec_' + Buffer.alloc(32, 1).toString('base64') } });
    const delivery = await d.webhookDelivery.create({ data: { endpointId: endpoint.id, eventId: '00000000-0000-4000-8000-0000000000ef', eventType: 'control.created', payload: {} } });
    await expect(run(delivery.id)).rejects.toThrow(/forbidden/);
  });
});
