import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { get, invoke, post } from '../support/invoke';
import { newClinic } from '../support/clinic';
import { useSuite } from '../support/suite';

const { fns, processor, retryPolicy, fanOut, dbClient, queues } = useSuite({
  // Loopback receivers are allowed in this file only (the default is off); a short request timeout.
  env: { WEBHOOKS_ALLOW_LOOPBACK: 'true', WEBHOOK_TIMEOUT_MS: '800' },
  modules: {
    fns: () => import('../../functions/http/webhooks'),
    processor: () => import('../../lib/jobs/processors/webhook-deliver'),
    retryPolicy: () => import('../../lib/domain/webhooks/retry-policy'),
    fanOut: () => import('../../lib/domain/webhooks/fan-out'),
    dbClient: () => import('../../lib/platform/db/client'),
    queues: () => import('../../lib/platform/queues/queues'),
  },
}).m;
const db = () => dbClient.getDb();
const queue = () => queues.getWebhookQueue();

type Reply = { status?: number };
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
      res.writeHead(r.status ?? 200).end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
});
beforeEach(() => {
  received.length = 0;
  replies.length = 0;
});

/** One attempt of a delivery through the real processor, as the worker would run it. */
async function run(deliveryId: string, attemptsMade = 0) {
  const q = await queue();
  await (await q.getJob(deliveryId))?.remove(); // no worker in this test: run it here, once
  return processor.processWebhookDelivery({ queue: 'webhook', name: 'webhook.deliver', id: deliveryId, data: { deliveryId }, attemptsMade, mode: 'inline' });
}

const route = (h: any, method: string, template: string, params: Record<string, string>, auth: object, body?: unknown) =>
  invoke(h, {
    method,
    path: template.replace(/\{(\w+)\}/g, (_, k: string) => params[k]!),
    routeKey: `${method} ${template}`,
    pathParameters: params,
    ...(body !== undefined && { body }),
    ...auth,
  });

async function newEndpoint(eventTypes = ['*']) {
  const clinic = await newClinic();
  const created = await post(fns.create, '/v1/webhooks', { url: `${base}/hook`, eventTypes }, clinic.auth);
  expect(created.status).toBe(201);
  return { clinic, endpoint: created.body as { id: string; secret: string } };
}

const ping = async (id: string, auth: object) => {
  const res = await route(fns.ping, 'POST', '/v1/webhooks/{id}/ping', { id }, auth);
  expect(res.status).toBe(202);
  return res.body.deliveryId as string;
};

const verifies = (secret: string, r: { headers: http.IncomingHttpHeaders; body: string }) => {
  try {
    new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

describe('secret rotation', () => {
  it('both secrets verify during the grace period, only the new one after it', async () => {
    const { clinic, endpoint } = await newEndpoint();
    const rotated = await route(fns.rotateSecret, 'POST', '/v1/webhooks/{id}/rotate-secret', { id: endpoint.id }, clinic.auth);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(endpoint.secret);
    expect(new Date(rotated.body.previousSecretExpiresAt).getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    // Shown once: not in the endpoint afterwards.
    const one = await route(fns.get, 'GET', '/v1/webhooks/{id}', { id: endpoint.id }, clinic.auth);
    expect(JSON.stringify(one.body)).not.toContain(newSecret);

    await run(await ping(endpoint.id, clinic.auth));
    expect(received).toHaveLength(1);
    expect(String(received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(newSecret, received[0]!)).toBe(true);
    expect(verifies(endpoint.secret, received[0]!)).toBe(true);
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'webhook.ping', data: { endpointId: endpoint.id } });

    // The grace period is over.
    await (await db()).webhookEndpoint.update({ where: { id: endpoint.id }, data: { previousSecretExpiresAt: new Date(Date.now() - 1000) } });
    await run(await ping(endpoint.id, clinic.auth));
    expect(received).toHaveLength(2);
    expect(String(received[1]!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifies(newSecret, received[1]!)).toBe(true);
    expect(verifies(endpoint.secret, received[1]!)).toBe(false);
  });
});

describe('deliveries, retryPolicy, replay, ping', () => {
  it('lists deliveries newest first with attempts, paginated by cursor', async () => {
    const { clinic, endpoint } = await newEndpoint();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await ping(endpoint.id, clinic.auth);
      await run(id);
      ids.push(id);
    }
    const list = (query?: Record<string, string>) =>
      invoke(fns.listDeliveries, {
        path: `/v1/webhooks/${endpoint.id}/deliveries${query ? `?${new URLSearchParams(query)}` : ''}`,
        routeKey: 'GET /v1/webhooks/{id}/deliveries',
        pathParameters: { id: endpoint.id },
        ...clinic.auth,
      });
    const first = await list({ limit: '2' });
    expect(first.status).toBe(200);
    expect(first.body.data.map((d: any) => d.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.data[0]).toMatchObject({ status: 'delivered', eventType: 'webhook.ping', attempts: 1, replayId: null });
    expect(first.body.data[0].attemptLog).toEqual([expect.objectContaining({ attemptNo: 1, statusCode: 200 })]);
    const second = await list({ limit: '2', cursor: first.body.nextCursor });
    expect(second.body.data.map((d: any) => d.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    expect((await list({ cursor: 'garbage' })).status).toBe(400);
  });

  it('retries a failed delivery under the same webhook-id, 409 once delivered', async () => {
    const { clinic, endpoint } = await newEndpoint();
    const deliveryId = await ping(endpoint.id, clinic.auth);
    replies.push({ status: 500 });
    // The last scheduled attempt fails: the delivery is failed.
    await expect(run(deliveryId, retryPolicy.WEBHOOK_ATTEMPTS - 1)).rejects.toThrow(/500/);
    const d = await db();
    expect((await d.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } })).status).toBe('failed');

    const retry = () => route(fns.retryDelivery, 'POST', '/v1/webhooks/{id}/deliveries/{deliveryId}/retry', { id: endpoint.id, deliveryId }, clinic.auth);
    const res = await retry();
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ deliveryId, status: 'pending' });
    const job = await (await queue()).getJob(deliveryId);
    expect(job?.data).toEqual({ deliveryId });
    await run(deliveryId);
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([deliveryId, deliveryId]);
    const after = await d.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { attemptLog: { orderBy: { attemptNo: 'asc' } } } });
    expect(after.status).toBe('delivered');
    expect(after.attemptLog.map((a) => a.statusCode)).toEqual([500, 200]);

    const again = await retry();
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('replays every subscribed event since a time as new deliveries (new webhook-ids, same eventId)', async () => {
    const { clinic, endpoint } = await newEndpoint(['appointment.created']);
    const d = await db();
    const mk = (type: string, createdAt: Date) =>
      d.outboxEvent.create({ data: { clinicId: clinic.clinicId, type, aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: {}, createdAt } });
    const old = await mk('appointment.created', new Date(Date.now() - 3 * 3_600_000));
    const e1 = await mk('appointment.created', new Date(Date.now() - 3_600_000));
    await mk('appointment.cancelled', new Date(Date.now() - 3_000_000)); // not subscribed
    const e2 = await mk('appointment.created', new Date(Date.now() - 1_800_000));
    // e1 was delivered once already, by the normal fan-out.
    const [original] = await fanOut.fanOutEvent(e1);
    await run(original!);
    received.length = 0;

    const since = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const res = await route(fns.replay, 'POST', '/v1/webhooks/{id}/replay', { id: endpoint.id }, clinic.auth, { since });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ count: 2, truncated: false });
    const ids = res.body.deliveryIds as string[];
    expect(ids).not.toContain(original);
    for (const id of ids) await run(id);
    expect(received.map((r) => r.headers['webhook-id'])).toEqual(ids);
    expect(received.map((r) => JSON.parse(r.body).data.eventId)).toEqual([e1.id, e2.id]);
    expect(received.every((r) => verifies(endpoint.secret, r))).toBe(true);
    expect(received.map((r) => JSON.parse(r.body).data.eventId)).not.toContain(old.id);
    // A second replay creates new deliveries again; the original is untouched.
    const res2 = await route(fns.replay, 'POST', '/v1/webhooks/{id}/replay', { id: endpoint.id }, clinic.auth, { since });
    expect(res2.body.count).toBe(2);
    expect(res2.body.replayId).not.toBe(res.body.replayId);
    expect((await d.webhookDelivery.findUniqueOrThrow({ where: { id: original! } })).status).toBe('delivered');
    for (const id of res2.body.deliveryIds) await (await (await queue()).getJob(id))?.remove();

    expect((await route(fns.replay, 'POST', '/v1/webhooks/{id}/replay', { id: endpoint.id }, clinic.auth, { since: 'yesterday' })).status).toBe(400);
  });

  it('a repeated fan-out still creates no second delivery', async () => {
    const { clinic } = await newEndpoint(['appointment.created']);
    const d = await db();
    const e = await d.outboxEvent.create({ data: { clinicId: clinic.clinicId, type: 'appointment.created', aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: {} } });
    const a = await fanOut.fanOutEvent(e);
    const b = await fanOut.fanOutEvent(e);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
    expect(await d.webhookDelivery.count({ where: { eventId: e.id } })).toBe(1);
    await (await (await queue()).getJob(a[0]!))?.remove();
  });
});

describe('sustained failure', () => {
  const HOUR = 3_600_000;
  const endpointRow = async (id: string) => (await db()).webhookEndpoint.findUniqueOrThrow({ where: { id } });

  // Continuous: the last failure is within the streak gap (26 h: 10 h x 1.2, or a Retry-After
  // capped at 24 h, plus 2 h), so the streak that began 121 h ago goes on.
  it.each([1, 25])('disables the endpoint on a failure after 5 days failing continuously (last failure %i h before)', async (lastHoursAgo) => {
    const { clinic, endpoint } = await newEndpoint();
    const d = await db();
    const since = new Date(Date.now() - 121 * HOUR);
    await d.webhookEndpoint.update({ where: { id: endpoint.id }, data: { firstFailureAt: since, lastFailureAt: new Date(Date.now() - lastHoursAgo * HOUR), failureCount: 40 } });
    const deliveryId = await ping(endpoint.id, clinic.auth);
    replies.push({ status: 503 });
    // BullMQ ends a job at once on an error of this name (its own class or the product's).
    await expect(run(deliveryId)).rejects.toHaveProperty('name', 'UnrecoverableError');
    expect(await endpointRow(endpoint.id)).toMatchObject({ enabled: false, disabledReason: 'sustained_failures', failureCount: 41, firstFailureAt: since });
    expect((await d.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } })).status).toBe('failed');
    const events = await d.outboxEvent.findMany({ where: { clinicId: clinic.clinicId, type: 'webhook.endpoint_disabled' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ aggregateId: endpoint.id, payload: { reason: 'sustained_failures', firstFailureAt: since.toISOString(), failureCount: 41 } });
    // Disabled: ping, retry and replay refuse with 409.
    expect((await route(fns.ping, 'POST', '/v1/webhooks/{id}/ping', { id: endpoint.id }, clinic.auth)).status).toBe(409);
  });

  // The streak ended: quiet for longer than the gap since its last failure. A new failure starts a
  // new streak instead of disabling the endpoint on its own.
  it.each([27, 5 * 24])('a failure %i h after the last one starts a new streak, however old the first', async (lastHoursAgo) => {
    const { clinic, endpoint } = await newEndpoint();
    const d = await db();
    await d.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: { firstFailureAt: new Date(Date.now() - 6 * 24 * HOUR), lastFailureAt: new Date(Date.now() - lastHoursAgo * HOUR), failureCount: 8 },
    });
    const deliveryId = await ping(endpoint.id, clinic.auth);
    replies.push({ status: 500 });
    const before = Date.now();
    await expect(run(deliveryId)).rejects.toBeInstanceOf(retryPolicy.WebhookAttemptFailedError);
    const ep = await endpointRow(endpoint.id);
    expect(ep).toMatchObject({ enabled: true, disabledReason: null, failureCount: 1 });
    expect(ep.firstFailureAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(ep.lastFailureAt).toEqual(ep.firstFailureAt);
    expect((await d.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } })).status).toBe('pending');
    expect(await d.outboxEvent.count({ where: { clinicId: clinic.clinicId, type: 'webhook.endpoint_disabled' } })).toBe(0);
  });

  it('a failure short of the period only counts; a success resets first_failure_at', async () => {
    const { clinic, endpoint } = await newEndpoint();
    const d = await db();
    const since = new Date(Date.now() - 119 * 3_600_000);
    await d.webhookEndpoint.update({ where: { id: endpoint.id }, data: { firstFailureAt: since, lastFailureAt: new Date(Date.now() - HOUR), failureCount: 3 } });
    const deliveryId = await ping(endpoint.id, clinic.auth);
    replies.push({ status: 500 });
    const before = Date.now();
    await expect(run(deliveryId)).rejects.toBeInstanceOf(retryPolicy.WebhookAttemptFailedError);
    const failed = await endpointRow(endpoint.id);
    expect(failed).toMatchObject({ enabled: true, failureCount: 4, firstFailureAt: since });
    expect(failed.lastFailureAt!.getTime()).toBeGreaterThanOrEqual(before);
    await run(deliveryId, 1);
    expect(await endpointRow(endpoint.id)).toMatchObject({ enabled: true, failureCount: 0, firstFailureAt: null });
    // The endpoint shows its failure record.
    const shown = await route(fns.get, 'GET', '/v1/webhooks/{id}', { id: endpoint.id }, clinic.auth);
    expect(shown.body).toMatchObject({ failureCount: 0, firstFailureAt: null, lastFailureAt: failed.lastFailureAt!.toISOString() });
  });
});

describe('tenancy', () => {
  it('every new route answers 404 for another clinic\'s endpoint or delivery', async () => {
    const { clinic: a, endpoint } = await newEndpoint();
    const b = await newClinic();
    const deliveryId = await ping(endpoint.id, a.auth);
    await run(deliveryId);
    const id = endpoint.id;
    const calls = [
      route(fns.rotateSecret, 'POST', '/v1/webhooks/{id}/rotate-secret', { id }, b.auth),
      route(fns.listDeliveries, 'GET', '/v1/webhooks/{id}/deliveries', { id }, b.auth),
      route(fns.retryDelivery, 'POST', '/v1/webhooks/{id}/deliveries/{deliveryId}/retry', { id, deliveryId }, b.auth),
      route(fns.replay, 'POST', '/v1/webhooks/{id}/replay', { id }, b.auth, { since: '2026-01-01T00:00:00Z' }),
      route(fns.ping, 'POST', '/v1/webhooks/{id}/ping', { id }, b.auth),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    // B's own endpoint cannot reach A's delivery either.
    const { endpoint: bEndpoint } = await (async () => {
      const created = await post(fns.create, '/v1/webhooks', { url: `${base}/b`, eventTypes: ['*'] }, b.auth);
      return { endpoint: created.body };
    })();
    const cross = await route(fns.retryDelivery, 'POST', '/v1/webhooks/{id}/deliveries/{deliveryId}/retry', { id: bEndpoint.id, deliveryId }, b.auth);
    expect(cross.status).toBe(404);
    // Nothing changed for A: the secret still verifies alone, the delivery is as it was.
    const list = await get(fns.list, '/v1/webhooks', a.auth);
    expect(list.body.data[0].id).toBe(id);
    expect(await (await db()).webhookEndpoint.findUniqueOrThrow({ where: { id } })).toMatchObject({ secret: endpoint.secret, previousSecret: null });
  });
});
