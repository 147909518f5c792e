/**
 * The send-time SSRF guard with the loopback allowance off, as in production: a stored host name
 * that resolves, when the attempt is made, to a loopback, metadata or private address is refused
 * before any connection, and the refusal is recorded as the attempt's outcome. A receiver listens
 * on 127.0.0.1 and ::1 at the URL's port, so a connection that got through would be counted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import { useSuite } from '../support/suite';

const { fns, processor, retryPolicy, sending, endpoints, dbClient } = useSuite({
  env: { WEBHOOKS_ALLOW_LOOPBACK: 'false', WEBHOOK_TIMEOUT_MS: '2000' },
  modules: {
    fns: () => import('../../functions/http/webhooks'),
    processor: () => import('../../lib/jobs/processors/webhook-deliver'),
    retryPolicy: () => import('../../lib/domain/webhooks/retry-policy'),
    sending: () => import('../../lib/domain/webhooks/delivery'),
    endpoints: () => import('../../lib/domain/webhooks/endpoints'),
    dbClient: () => import('../../lib/platform/db/client'),
  },
}).m;
const db = () => dbClient.getDb();

const connections: string[] = [];
const servers: http.Server[] = [];
let port = 0;

const listen = (srv: http.Server, host: string, p: number) =>
  new Promise<number>((ok, fail) => {
    srv.once('error', fail);
    srv.listen(p, host, () => ok((srv.address() as AddressInfo).port));
  });

beforeAll(async () => {
  const receiver = () => {
    const srv = http.createServer((_req, res) => res.end('ok'));
    srv.on('connection', (socket) => connections.push(String(socket.remoteAddress)));
    return srv;
  };
  // The same port on both loopback addresses; another port if ::1's is taken.
  for (let tries = 0; !port; tries++) {
    const v4 = receiver();
    const v6 = receiver();
    const p = await listen(v4, '127.0.0.1', 0);
    try {
      await listen(v6, '::1', p);
      servers.push(v4, v6);
      port = p;
    } catch (err) {
      await new Promise((ok) => v4.close(ok));
      if (tries >= 4) throw err;
    }
  }
});

afterAll(async () => {
  for (const srv of servers) {
    srv.closeAllConnections();
    await new Promise((ok) => srv.close(ok));
  }
  sending.setDeliveryResolverForTests(undefined);
  endpoints.setWebhookResolverForTests(undefined);
});

const run = (deliveryId: string) =>
  processor.processWebhookDelivery({ queue: 'webhook', name: 'webhook.deliver', id: deliveryId, data: { deliveryId }, attemptsMade: 0, mode: 'inline' });

/** A delivery to `url`, stored as it is (the registration check is not what is tested here). */
async function deliveryTo(url: string) {
  const clinic = await newClinic();
  const d = await db();
  const endpoint = await d.webhookEndpoint.create({ data: { clinicId: clinic.clinicId, url, eventTypes: ['*'], secret: 'whsec_' + Buffer.alloc(32, 7).toString('base64') } });
  return d.webhookDelivery.create({ data: { endpointId: endpoint.id, eventId: '00000000-0000-4000-8000-0000000000aa', eventType: 'control.created', payload: { type: 'control.created' } } });
}

/** One attempt, which must be refused by the guard: thrown for retry and recorded, no status. */
async function expectRefused(deliveryId: string, reason: RegExp) {
  const thrown = await run(deliveryId).catch((e: unknown) => e);
  expect(thrown).toBeInstanceOf(retryPolicy.WebhookAttemptFailedError);
  expect((thrown as Error).message).toMatch(/^forbidden: /);
  expect((thrown as Error).message).toMatch(reason);
  const [attempt] = await (await db()).webhookAttempt.findMany({ where: { deliveryId }, orderBy: { createdAt: 'desc' }, take: 1 });
  expect(attempt).toMatchObject({ statusCode: null, responseExcerpt: null });
  expect(attempt!.error).toMatch(/^forbidden: /);
  expect(attempt!.error).toMatch(reason);
}

describe('send-time SSRF guard, loopback not allowed', () => {
  beforeEach(() => {
    connections.length = 0;
  });

  it('refuses a registered host name that now resolves to loopback, metadata or private addresses, connecting nowhere', async () => {
    // Public when registered: the API accepts it.
    const clinic = await newClinic();
    endpoints.setWebhookResolverForTests(async () => [{ address: '93.184.216.34', family: 4 }]);
    const created = await post(fns.create, '/v1/webhooks', { url: `http://hooks.rebind.example:${port}/hook`, eventTypes: ['*'] }, clinic.auth);
    endpoints.setWebhookResolverForTests(undefined);
    expect(created.status).toBe(201);
    const d = await db();
    const delivery = await d.webhookDelivery.create({
      data: { endpointId: created.body.id, eventId: '00000000-0000-4000-8000-0000000000ab', eventType: 'control.created', payload: { type: 'control.created' } },
    });

    const rebound: [string, RegExp][] = [
      ['127.0.0.1', /loopback/],
      ['::1', /loopback/],
      ['::ffff:7f00:1', /loopback/],
      ['169.254.169.254', /linkLocal/],
      ['10.0.0.1', /private/],
    ];
    for (const [address, reason] of rebound) {
      sending.setDeliveryResolverForTests(async () => [{ address, family: net.isIP(address) }]);
      await expectRefused(delivery.id, reason);
    }
    sending.setDeliveryResolverForTests(undefined);

    const attempts = await d.webhookAttempt.findMany({ where: { deliveryId: delivery.id } });
    expect(attempts).toHaveLength(rebound.length);
    expect(connections).toEqual([]);
    expect(await d.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ status: 'pending', attempts: rebound.length });
  });

  it('refuses loopback literals stored before the rules, connecting nowhere', async () => {
    for (const host of ['127.0.0.1', '[::1]', '[::ffff:7f00:1]']) {
      const delivery = await deliveryTo(`http://${host}:${port}/hook`);
      await expectRefused(delivery.id, /loopback/);
    }
    expect(connections).toEqual([]);
  });

  it('the receivers do count a connection that gets through (the check above can fail)', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      await new Promise<void>((ok, fail) => net.connect(port, host, function (this: net.Socket) { this.end(); ok(); }).on('error', fail));
    }
    while (connections.length < 2) await new Promise((ok) => setTimeout(ok, 10));
    expect(connections.sort()).toEqual(['127.0.0.1', '::1']);
  });
});
