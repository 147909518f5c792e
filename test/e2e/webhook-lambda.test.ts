/**
 * Lambda dispatch used for real: with WORKER_MODE_WEBHOOK=lambda the worker takes `webhook.deliver`
 * off the queue and invokes the job Lambda (serverless-offline's Lambda endpoint) through the Lambda
 * client; the processor runs there, signs and sends, and records the attempt.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';

// Registration (in this process) and delivery (in the job Lambda) both need loopback allowed.
process.env.WEBHOOKS_ALLOW_LOOPBACK = 'true';

const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
let receiver: http.Server;
let base: string;
let offline: Offline;
let worker: Worker | undefined;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  offline = await startOffline({ WEBHOOKS_ALLOW_LOOPBACK: 'true' });
}, 150_000);

afterAll(async () => {
  await worker?.stop('SIGTERM').catch(() => undefined);
  await offline?.stop('SIGINT').catch(() => undefined);
  receiver.closeAllConnections();
  await new Promise((ok) => receiver.close(ok));
  await require('../../lib/lifecycle/close-all').closeAll();
});

it('delivers a signed webhook from inside the job Lambda and records the attempt', async () => {
  const fns = require('../../functions/http/webhooks') as typeof import('../../functions/http/webhooks');
  const { getDb } = require('../../lib/db/client') as typeof import('../../lib/db/client');
  const { fanOutEvent } = require('../../lib/webhooks/deliver') as typeof import('../../lib/webhooks/deliver');

  const clinic = await newClinic();
  const created = await post(fns.create, '/v1/webhooks', { url: `${base}/hook`, eventTypes: ['appointment.created'] }, clinic.auth);
  expect(created.status).toBe(201);
  const db = await getDb();
  const event = await db.outboxEvent.create({
    data: { clinicId: clinic.clinicId, type: 'appointment.created', aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: {} },
  });
  const [deliveryId] = await fanOutEvent(event);
  expect(deliveryId).toBeDefined();

  worker = await startWorker({ WORKER_MODE_WEBHOOK: 'lambda', LAMBDA_ENDPOINT: offline.lambdaUrl });

  const deadline = Date.now() + 60_000;
  let delivery = await db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId! } });
  while (delivery.status === 'pending' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    delivery = await db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId! } });
  }
  expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });

  // The receiver got one signed request, verifiable with the endpoint's secret.
  expect(received).toHaveLength(1);
  const [req] = received;
  expect(req!.headers['webhook-id']).toBe(deliveryId);
  const verified = new Webhook(created.body.secret).verify(req!.body, req!.headers as Record<string, string>);
  expect(verified).toMatchObject({ type: 'appointment.created', data: { eventId: event.id } });

  const attempts = await db.webhookAttempt.findMany({ where: { deliveryId: deliveryId! } });
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ attemptNo: 1, statusCode: 200 });

  // It ran in the job Lambda, not in the worker: the worker logged the job in lambda mode.
  const log = worker.output();
  expect(log).toMatch(/"job\.completed"[^\n]*"mode":"lambda"|"mode":"lambda"[^\n]*job\.completed/);
  expect(log).not.toContain('webhook.delivered');
  expect(offline.output()).toContain('webhook.delivered');
}, 120_000);
