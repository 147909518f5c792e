/**
 * Webhook deliveries through the real worker: the consumers of worker/consumers.ts (BullMQ Workers
 * with the webhook backoff strategy) running the real processor against a local receiver. What
 * only a real Worker shows: the retry time BullMQ schedules and the one the delivery records are
 * the same, and a manual retry of a delivery whose attempt is running answers 409.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job, Worker } from 'bullmq';
import { newClinic } from '../support/clinic';
import { invoke, post } from '../support/invoke';
import { useSuite } from '../support/suite';

const { fns, retryPolicy, dbClient, queues, config, redisClient, consumers } = useSuite({
  env: {
    AGENDA_PROFILE: 'worker', // BullMQ Workers need the worker's Redis options
    WEBHOOKS_ALLOW_LOOPBACK: 'true',
    WEBHOOK_TIMEOUT_MS: '30000', // a held request must not time out before the test lets it go
  },
  modules: {
    fns: () => import('../../functions/http/webhooks'),
    retryPolicy: () => import('../../lib/domain/webhooks/retry-policy'),
    dbClient: () => import('../../lib/platform/db/client'),
    queues: () => import('../../lib/platform/queues/queues'),
    config: () => import('../../lib/platform/config'),
    redisClient: () => import('../../lib/platform/redis/client'),
    consumers: () => import('../../worker/consumers'),
  },
}).m;
const db = () => dbClient.getDb();
const queue = () => queues.getWebhookQueue();

/** The receiver's next answers; `hold` answers only once the promise resolves. */
type Reply = { status: number; hold?: Promise<void> };
const replies: Reply[] = [];
let arrived: () => void = () => undefined;
let server: http.Server;
let base: string;
let workers: Worker[] = [];

const webhookWorker = () => workers.find((w) => w.name === 'webhook')!;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      const r = replies.shift() ?? { status: 200 };
      arrived();
      await r.hold;
      res.writeHead(r.status).end('ok');
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
  replies.length = 0;
});

/**
 * Watches the webhook Worker for `event` from now on: `job(id)` resolves once that job has had it,
 * even if that happened before the id was known (the Worker can beat the route's answer).
 */
function watch(event: 'failed' | 'completed') {
  const seen = new Map<string, Job>();
  const waiting = new Map<string, (job: Job) => void>();
  const on = (job?: Job) => {
    if (!job?.id) return;
    seen.set(job.id, job);
    waiting.get(job.id)?.(job);
  };
  webhookWorker().on(event, on);
  return {
    job: (id: string) => new Promise<Job>((ok) => (seen.has(id) ? ok(seen.get(id)!) : waiting.set(id, ok))),
    stop: () => webhookWorker().off(event, on),
  };
}

const route = (h: any, method: string, template: string, params: Record<string, string>, auth: object) =>
  invoke(h, { method, path: template.replace(/\{(\w+)\}/g, (_, k: string) => params[k]!), routeKey: `${method} ${template}`, pathParameters: params, ...auth });

async function newEndpoint() {
  const clinic = await newClinic();
  const created = await post(fns.create, '/v1/webhooks', { url: `${base}/hook`, eventTypes: ['*'] }, clinic.auth);
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const ping = async () => {
    const res = await route(fns.ping, 'POST', '/v1/webhooks/{id}/ping', { id }, clinic.auth);
    expect(res.status).toBe(202);
    return res.body.deliveryId as string;
  };
  const retry = (deliveryId: string) =>
    route(fns.retryDelivery, 'POST', '/v1/webhooks/{id}/deliveries/{deliveryId}/retry', { id, deliveryId }, clinic.auth);
  return { ping, retry };
}

/** Resolves when the receiver has the next request (its answer may still be held). */
const requestArrives = () => new Promise<void>((ok) => (arrived = ok));

describe('through the worker consumers', () => {
  // Started in the suite's container, and stopped before the suite closes the Redis client they share.
  beforeAll(async () => {
    workers = consumers.startConsumers(config.getConfig(), await redisClient.getRedis());
    await Promise.all(workers.map((w) => w.waitUntilReady()));
  });
  afterAll(async () => {
    await consumers.stopConsumers(workers, 20_000);
  });

  it('records the next attempt at the time BullMQ schedules the retry; a retry of the delayed job runs it now', async () => {
    const { ping, retry } = await newEndpoint();
    replies.push({ status: 500 }, { status: 200 });
    const failures = watch('failed');
    const before = Date.now();
    const deliveryId = await ping();
    const failed = await failures.job(deliveryId);
    const after = Date.now();
    failures.stop();
    expect(failed.attemptsMade).toBe(1);

    const q = await queue();
    const job = (await q.getJob(deliveryId))!;
    expect(await job.getState()).toBe('delayed');
    // The delay BullMQ used is the delivery's own, deterministic one.
    expect(job.delay).toBe(retryPolicy.webhookDelay(1, deliveryId, new Error('receiver answered 500')));
    // When the retry is due: BullMQ's delayed set scores it (due time in ms) x 4096 plus a counter.
    const redis = await redisClient.getRedis();
    const score = await redis.zscore(q.keys.delayed!, deliveryId);
    const due = Math.floor(Number(score) / 0x1000);
    const delivery = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500 });
    // Both are "now + the same delay": the processor's now, then BullMQ's a moment later, both
    // inside this test's window. With a jitter drawn twice they would differ by up to 2 s.
    const gap = due - delivery.nextAttemptAt!.getTime();
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThanOrEqual(after - before);

    // A manual retry promotes the delayed job: it runs now and delivers.
    const completions = watch('completed');
    expect((await retry(deliveryId)).status).toBe(202);
    await completions.job(deliveryId);
    completions.stop();
    const done = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(done).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200, nextAttemptAt: null });
  });

  it('a manual retry while the attempt is being sent answers 409, never 500, and leaves the attempt alone', async () => {
    const { ping, retry } = await newEndpoint();
    let release!: () => void;
    replies.push({ status: 200, hold: new Promise<void>((ok) => (release = ok)) });
    const arrives = requestArrives();
    const deliveryId = await ping();
    await arrives; // the Worker holds the job active, waiting for the receiver's answer
    const q = await queue();
    expect(await q.getJobState(deliveryId)).toBe('active');

    const completions = watch('completed');
    try {
      const res = await retry(deliveryId);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'conflict', details: { deliveryId, reason: 'delivery_in_flight' } });
      expect(res.body.error.message).toMatch(/being sent right now/);
      expect(await q.getJobState(deliveryId)).toBe('active');
    } finally {
      release();
    }
    await completions.job(deliveryId);
    completions.stop();
    const delivery = await (await db()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
    // Once delivered, a retry is the other 409.
    const again = await retry(deliveryId);
    expect(again.status).toBe(409);
    expect(again.body.error.details).toMatchObject({ reason: 'already_delivered' });
  });
});
