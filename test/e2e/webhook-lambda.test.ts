/**
 * Lambda dispatch used for real: with WORKER_MODE_WEBHOOK=lambda the worker takes `webhook.deliver`
 * off the queue and invokes the job Lambda (serverless-offline's Lambda endpoint) through the Lambda
 * client; the processor runs there, signs and sends, and records the attempt. A failed attempt comes
 * back as the job Lambda's failure result, and the worker's retry decision is the one it makes
 * inline: the receiver's Retry-After, no retry after 410.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';
import { until } from '../support/until';

// Registration (in this process) and delivery (in the job Lambda) both need loopback allowed.
process.env.WEBHOOKS_ALLOW_LOOPBACK = 'true';

type Reply = { status: number; headers?: Record<string, string> };
/** Scripted answers by request path, in order; 200 once a path's script is used up. */
const replies: Record<string, Reply[]> = {};
const received: { path: string; headers: http.IncomingHttpHeaders; body: string; at: number }[] = [];
let receiver: http.Server;
let base: string;
let offline: Offline;
let worker: Worker | undefined;

const fns = () => require('../../functions/http/webhooks') as typeof import('../../functions/http/webhooks');
const deliver = () => require('../../lib/domain/webhooks/fan-out') as typeof import('../../lib/domain/webhooks/fan-out');
const getDb = () => (require('../../lib/platform/db/client') as typeof import('../../lib/platform/db/client')).getDb();
const webhookQueue = () => (require('../../lib/platform/queues/queues') as typeof import('../../lib/platform/queues/queues')).getWebhookQueue();

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body, at: Date.now() });
      const r = replies[path]?.shift() ?? { status: 200 };
      res.writeHead(r.status, r.headers).end('ok');
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
  await require('../../lib/platform/lifecycle/close-all').closeAll();
});

/** The worker, dispatching the webhook queue to the job Lambda; one for the whole file. */
async function lambdaWorker(): Promise<Worker> {
  worker ??= await startWorker({ WORKER_MODE_WEBHOOK: 'lambda', LAMBDA_ENDPOINT: offline.lambdaUrl });
  return worker;
}

/** An endpoint at `path` subscribed to appointment.created, and one delivery of an event to it (enqueued). */
async function deliveryTo(path: string) {
  const clinic = await newClinic();
  const created = await post(fns().create, '/v1/webhooks', { url: `${base}${path}`, eventTypes: ['appointment.created'] }, clinic.auth);
  expect(created.status).toBe(201);
  const event = await (await getDb()).outboxEvent.create({
    data: { clinicId: clinic.clinicId, type: 'appointment.created', aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: {} },
  });
  const [deliveryId] = await deliver().fanOutEvent(event);
  expect(deliveryId).toBeDefined();
  return { endpoint: created.body as { id: string; secret: string }, event, deliveryId: deliveryId! };
}

/** A wait that times out shows the worker's recent output. */
const withWorkerLog = { context: () => `${worker?.output().slice(-3000)}` };

it('delivers a signed webhook from inside the job Lambda and records the attempt', async () => {
  const { endpoint, event, deliveryId } = await deliveryTo('/hook');
  const db = await getDb();
  const w = await lambdaWorker();

  const delivery = await until(
    'the delivery',
    () => db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } }),
    (d) => d.status !== 'pending',
    withWorkerLog,
  );
  expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });

  // The receiver got one signed request, verifiable with the endpoint's secret.
  const requests = received.filter((r) => r.path === '/hook');
  expect(requests).toHaveLength(1);
  const [req] = requests;
  expect(req!.headers['webhook-id']).toBe(deliveryId);
  const verified = new Webhook(endpoint.secret).verify(req!.body, req!.headers as Record<string, string>);
  expect(verified).toMatchObject({ type: 'appointment.created', data: { eventId: event.id } });

  const attempts = await db.webhookAttempt.findMany({ where: { deliveryId } });
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ attemptNo: 1, statusCode: 200 });

  // It ran in the job Lambda, not in the worker: the worker logs the job in lambda mode once the
  // invocation returns, which can be a moment after the Lambda has written the delivery row.
  const lambdaMode = /"job\.completed"[^\n]*"mode":"lambda"|"mode":"lambda"[^\n]*job\.completed/;
  const log = await until(
    'the lambda-mode job.completed log line',
    () => w.output(),
    (out) => lambdaMode.test(out),
    withWorkerLog,
  );
  expect(log).not.toContain('webhook.delivered');
  expect(offline.output()).toContain('webhook.delivered');
}, 120_000);

it("waits the receiver's Retry-After before the next attempt, as inline", async () => {
  replies['/busy'] = [{ status: 503, headers: { 'retry-after': '7' } }];
  const { deliveryId } = await deliveryTo('/busy');
  const db = await getDb();
  const queue = await webhookQueue();
  await lambdaWorker();

  // After the failed first attempt the job waits for its retry: BullMQ records the delay the
  // worker's backoff strategy chose from the error it rebuilt out of the job Lambda's result.
  const { job } = await until(
    'the delayed retry',
    async () => {
      const j = await queue.getJob(deliveryId);
      return { job: j!, state: await j?.getState() };
    },
    (r) => r.state === 'delayed',
    withWorkerLog,
  );
  expect(job.attemptsMade).toBe(1);
  expect(job.failedReason).toBe('receiver answered 503');
  // Retry-After: 7 exactly; the schedule would have said 5 s ± 20 % (4 to 6 s).
  expect(job.delay).toBe(7_000);

  // The job Lambda recorded the same next attempt time on the delivery.
  const pending = await db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { attemptLog: true } });
  expect(pending).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 503 });
  expect(pending.nextAttemptAt!.getTime() - pending.attemptLog[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(6_900);

  // And the retry runs, no sooner than asked, and delivers.
  const delivered = await until(
    'the retried delivery',
    () => db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } }),
    (d) => d.status !== 'pending',
    withWorkerLog,
  );
  expect(delivered).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200 });
  const [first, second] = received.filter((r) => r.path === '/busy');
  expect(second!.at - first!.at).toBeGreaterThanOrEqual(7_000);
}, 120_000);

it('a 410 from the job Lambda fails the job without a retry and disables the endpoint, as inline', async () => {
  replies['/gone'] = [{ status: 410 }];
  const { deliveryId, endpoint } = await deliveryTo('/gone');
  const db = await getDb();
  const queue = await webhookQueue();
  await lambdaWorker();

  // Done with its first attempt: failed for good, or (wrongly) waiting for a retry.
  const { job, state } = await until(
    'the first attempt',
    async () => {
      const j = await queue.getJob(deliveryId);
      return { job: j!, state: await j?.getState() };
    },
    (r) => r.state === 'failed' || r.state === 'delayed' || r.state === 'completed',
    withWorkerLog,
  );
  expect(state).toBe('failed');
  expect(job.attemptsMade).toBe(1); // of WEBHOOK_ATTEMPTS: unrecoverable, so no retry
  expect(job.failedReason).toMatch(/410 Gone/);
  expect(await db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } })).toMatchObject({ status: 'failed', attempts: 1 });
  expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ enabled: false });
  expect(received.filter((r) => r.path === '/gone')).toHaveLength(1);
}, 120_000);
