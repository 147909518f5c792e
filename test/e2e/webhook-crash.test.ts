/**
 * A worker killed mid-delivery (SIGKILL while the receiver still holds the request open) loses no
 * delivery: the job keeps its lock until WORKER_LOCK_DURATION_MS passes, then a second worker's
 * stalled-job check (WORKER_STALLED_INTERVAL_MS) hands it out again and it is delivered, recorded
 * delivered once, with the same `webhook-id` on every request the receiver saw.
 *
 * In a file of its own for the reason given in worker-stalled.test.ts (one stalled check per queue
 * per interval, guarded by a key that lives as long as the interval of the worker that set it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import { startWorker, type Worker } from '../support/processes';

process.env.WEBHOOKS_ALLOW_LOOPBACK = 'true';

const LOCK_MS = 2_000;
const STALLED_INTERVAL_MS = 1_000;
const FAST = {
  WEBHOOKS_ALLOW_LOOPBACK: 'true',
  // Longer than the test holds the first request: the kill, not a timeout, ends that attempt.
  WEBHOOK_TIMEOUT_MS: '30000',
  WORKER_SHUTDOWN_TIMEOUT_MS: '300',
  WORKER_LOCK_DURATION_MS: String(LOCK_MS),
  WORKER_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
};

const received: { webhookId: string | undefined; at: number }[] = [];
let holdNext = true;
let receiver: http.Server;
let base: string;
const workers: Worker[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ webhookId: req.headers['webhook-id'] as string | undefined, at: Date.now() });
      if (holdNext) {
        holdNext = false;
        return; // held open: the worker is killed while waiting for this answer
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL').catch(() => undefined)));
  receiver.closeAllConnections();
  await new Promise((ok) => receiver.close(ok));
  await require('../../lib/platform/lifecycle/close-all').closeAll();
});

it('a delivery whose worker was SIGKILLed mid-request completes after restart, once, with one webhook-id', async () => {
  const fns = require('../../functions/http/webhooks') as typeof import('../../functions/http/webhooks');
  const { getDb } = require('../../lib/platform/db/client') as typeof import('../../lib/platform/db/client');
  const { fanOutEvent } = require('../../lib/domain/webhooks/fan-out') as typeof import('../../lib/domain/webhooks/fan-out');
  const { getWebhookQueue } = require('../../lib/platform/queues/queues') as typeof import('../../lib/platform/queues/queues');

  const clinic = await newClinic();
  const created = await post(fns.create, '/v1/webhooks', { url: `${base}/hook`, eventTypes: ['*'] }, clinic.auth);
  expect(created.status).toBe(201);
  const db = await getDb();

  const first = await startWorker(FAST);
  workers.push(first);
  const event = await db.outboxEvent.create({
    data: { clinicId: clinic.clinicId, type: 'appointment.created', aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: {} },
  });
  const [deliveryId] = await fanOutEvent(event);
  expect(deliveryId).toBeDefined();

  // Wait until the receiver holds the first request.
  const deadline = Date.now() + 20_000;
  while (received.length === 0 && Date.now() < deadline) await sleep(50);
  expect(received).toHaveLength(1);
  expect(await (await getWebhookQueue()).getJobState(deliveryId!)).toBe('active');

  const killed = Date.now();
  await first.stop('SIGKILL', 10_000);
  expect(first.proc.signalCode).toBe('SIGKILL');
  // Nothing finished: no attempt recorded, still pending.
  expect(await db.webhookAttempt.count({ where: { deliveryId: deliveryId! } })).toBe(0);
  expect((await db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId! } })).status).toBe('pending');

  const second = await startWorker(FAST);
  workers.push(second);

  let delivery = await db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId! } });
  const until = Date.now() + 30_000;
  while (delivery.status === 'pending' && Date.now() < until) {
    await sleep(200);
    delivery = await db.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId! } });
  }
  expect(delivery).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
  expect(second.output()).toContain('worker.job_stalled');
  const recoveredMs = Date.now() - killed;

  // Give a duplicate run a chance to show up before counting.
  await sleep(STALLED_INTERVAL_MS * 2);
  const attempts = await db.webhookAttempt.findMany({ where: { deliveryId: deliveryId! }, orderBy: { attemptNo: 'asc' } });
  // Recorded delivered once: one finished attempt, the 200. The killed attempt never finished, so it
  // has no row, but it was counted when it started (attempts = 2, the delivered one is attempt 2).
  expect(attempts.filter((a) => a.statusCode === 200)).toHaveLength(1);
  expect(attempts).toHaveLength(1);
  expect(attempts[0]!.attemptNo).toBe(2);
  expect(delivery.attempts).toBe(2);
  expect(await (await getWebhookQueue()).getJobState(deliveryId!)).toBe('completed');

  // The receiver saw the held request and the one that succeeded: both the same webhook-id.
  expect(received.length).toBe(2);
  expect(new Set(received.map((r) => r.webhookId))).toEqual(new Set([deliveryId]));
  console.info(`webhook-crash: delivered ${recoveredMs} ms after the SIGKILL`);
}, 90_000);
