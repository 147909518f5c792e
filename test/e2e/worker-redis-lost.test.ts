/**
 * The worker process and a Redis that goes away (a scratch redis-server, stopped and started; the
 * shared one is never touched). A short outage is ridden out: the worker reconnects and serves
 * again, and a Redis that came back empty gets the worker's job schedulers (the outbox relay's
 * included) again. Past REDIS_RECONNECT_ATTEMPTS failed reconnects in a row the worker drains and exits 75,
 * for the container platform to restart it: BullMQ Workers never revive a client that gave up.
 * The reconnect delay is capped low here so that 15 attempts take seconds, not the default ~51 s.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { startWorker, type Worker } from '../support/processes';
import { startScratchRedis, type ScratchRedis } from '../support/redis-server';
import { until } from '../support/until';

let redis: ScratchRedis;
let worker: Worker | undefined;

beforeAll(async () => {
  redis = await startScratchRedis();
});

afterAll(async () => {
  await worker?.stop('SIGKILL').catch(() => undefined);
  await redis?.remove();
});

const healthStatus = (url: string) => fetch(url).then((r) => r.status, () => 0);

const untilTrue = (what: string, ok: () => Promise<boolean>, timeoutMs: number) =>
  until(what, ok, (v) => v, { timeoutMs, everyMs: 100, context: () => worker?.output().slice(-3000) ?? '' });

it('rides out a short outage, and exits 75 after 15 failed reconnects in a row', async () => {
  worker = await startWorker({
    REDIS_URL: redis.url,
    REDIS_MAX_RECONNECT_DELAY_MS: '200', // 15 attempts: 100 ms, then 200 ms each, about 3 s
    WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
    HEALTH_CHECK_TIMEOUT_MS: '1000',
  });
  const exited = new Promise<number | null>((resolve) => worker!.proc.once('exit', (code) => resolve(code)));
  expect(await healthStatus(worker.healthUrl)).toBe(200);

  // Short: a few reconnects fail, then one succeeds; the count starts over, and the worker goes on.
  await redis.stop();
  await untilTrue('health 503 while Redis is down', async () => (await healthStatus(worker!.healthUrl)) === 503, 10_000);
  await sleep(800);
  await redis.start();
  await untilTrue('health 200 once Redis is back', async () => (await healthStatus(worker!.healthUrl)) === 200, 20_000);
  expect(worker.proc.exitCode).toBeNull();
  // This Redis keeps nothing across a restart: the worker upserted its schedulers again.
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const agenda = new Queue('agenda', { connection: client, prefix: process.env.QUEUE_PREFIX });
  try {
    await untilTrue('relay scheduler restored', async () => (await agenda.getJobScheduler('outbox-relay'))?.name === 'outbox.relay', 10_000);
  } finally {
    await agenda.close();
    client.disconnect();
  }

  // Long: 15 failed reconnects in a row, then a bounded drain and exit 75.
  const stoppedAt = Date.now();
  await redis.stop();
  const code = await Promise.race([exited, sleep(40_000, 'still running' as const, { ref: false })]);
  expect({ code, output: code === 75 ? '' : worker.output().slice(-3000) }).toEqual({ code: 75, output: '' });
  expect(worker.output()).toContain('redis.reconnect_gave_up');
  expect(worker.output()).toMatch(/"worker\.redis_lost"[^\n]*"attempts":15/);
  expect(worker.output()).toMatch(/"worker\.stopped"[^\n]*"exitCode":75/);
  console.info(`worker-redis-lost: exited 75 ${Date.now() - stoppedAt} ms after Redis went away`);
}, 120_000);
