/**
 * Redis unreachable, through a real TCP proxy (the shared Redis is never touched): functions must
 * answer 503 naming the dependency within 3 s (a requirement bound: API Gateway gives up at 29 s
 * and callers should learn quickly), write nothing half-way, and recover on their own when Redis
 * comes back, in the same container (module registry), without a restart.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_REDIS_URL } from '../setup/test-env';
import { post, type InvokeResult, getHealth } from '../support/invoke';
import { useSuite } from '../support/suite';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const BOUND_MS = 3_000;
const ADMIN_SECRET = 'dependency-down-test-secret-0123456789';
const auth = { authorization: `Bearer ${ADMIN_SECRET}` };

let proxy: TcpProxy;
const createdCanaryIds: string[] = [];

// Declared before the suite so it runs before the suite's cleanup, while its client is open.
afterAll(async () => {
  if (createdCanaryIds.length > 0) {
    await suite.pg.query('DELETE FROM canary_runs WHERE id = ANY($1::uuid[])', [createdCanaryIds]);
  }
});

const suite = useSuite({
  // REDIS_URL points at the proxy once it listens (set below); each block loads its own container.
  env: { AGENDA_PROFILE: 'api', ADMIN_SECRET, REDIS_URL: TEST_REDIS_URL },
  modules: {
    health: () => import('../../functions/http/health'),
    admin: () => import('../../functions/http/admin'),
    queues: () => import('../../lib/platform/queues/queues'),
    config: () => import('../../lib/platform/config'),
    lifecycle: () => import('../../lib/platform/lifecycle/close-all'),
  },
  pg: true,
});

/** A new simulated Lambda container reading the current env. */
async function loadContainer() {
  const { health, admin, queues, config, lifecycle } = await suite.reload();
  return {
    health: health.handler,
    createCanary: admin.createCanary,
    getQueueByName: queues.getQueueByName,
    closeAll: lifecycle.closeAll,
    getConfig: config.getConfig,
  };
}
type Container = Awaited<ReturnType<typeof loadContainer>>;

beforeAll(async () => {
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  process.env.REDIS_URL = proxy.urlFor(TEST_REDIS_URL);
});

afterAll(async () => {
  await proxy?.close();
});

/** Rows with this (test-unique) work_ms: what a request left in canary_runs. */
async function canaryRows(workMs: number): Promise<{ id: string }[]> {
  const { rows } = await suite.pg.query<{ id: string }>('SELECT id FROM canary_runs WHERE work_ms = $1', [workMs]);
  return rows;
}

/** A work_ms no other request (or other test file sharing the database) will use. */
const uniqueWorkMs = () => randomInt(10_000, 60_000);

async function timed<T extends InvokeResult>(call: () => Promise<T>): Promise<T & { measuredMs: number }> {
  const started = Date.now();
  const res = await call();
  return { ...res, measuredMs: Date.now() - started };
}

function expectRedisDown503(res: InvokeResult & { measuredMs: number }) {
  expect(res.status).toBe(503);
  expect(res.body.status).toBe('unavailable');
  expect(res.body.down).toEqual(['redis']); // queue depths are the worker's to report
  expect(res.body.down).not.toContain('database');
  expect(res.body.checks.redis.error).toEqual(expect.any(String));
  expect(res.measuredMs).toBeLessThan(BOUND_MS);
}

function expectCanary503(res: InvokeResult & { measuredMs: number }) {
  expect(res.status).toBe(503);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(res.headers['retry-after']).toBeDefined();
  expect(res.body).toEqual({
    error: {
      code: 'dependency_unavailable',
      message: expect.stringMatching(/Redis|queue/i),
      details: { dependency: expect.stringMatching(/^(redis|queue)$/) },
    },
  });
  expect(res.measuredMs).toBeLessThan(BOUND_MS);
}

async function expectCanaryQueued(c: Container, res: InvokeResult, workMs: number) {
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ id: expect.any(String), queue: 'agenda', workMs, status: 'queued' });
  createdCanaryIds.push(res.body.id);
  expect(res.headers.location).toBe(`/admin/canaries/${res.body.id}`);
  const job = await (await c.getQueueByName('agenda')).getJob(`canary-${res.body.id}`);
  expect(job).toBeDefined();
  expect(job!.name).toBe('system.canary');
  expect(job!.data).toEqual({ canaryId: res.body.id });
  expect(await canaryRows(workMs)).toEqual([{ id: res.body.id }]);
}

/**
 * `/health` once Redis is back: a function container remembers the outage for
 * REDIS_DOWN_RETRY_AFTER_MS (answering 503 at once meanwhile) unless its client reconnected in the
 * background first, so it answers 200 within that window plus one bounded wait, and each answer
 * on the way comes within the bound.
 */
async function healthOnceBack(c: Container) {
  const upAt = Date.now();
  const limit = c.getConfig().redis.downRetryAfterMs + BOUND_MS;
  for (;;) {
    const health = await timed(() => getHealth(c.health));
    expect(health.measuredMs).toBeLessThan(BOUND_MS);
    if (health.status === 200 || Date.now() - upAt > limit) return { ...health, backAfterMs: Date.now() - upAt };
    await sleep(100);
  }
}

/** Ends a simulated container: Redis reachable again, its queue emptied, its connections closed. */
async function retire(c: Container | undefined): Promise<void> {
  await proxy.up();
  const q = await c?.getQueueByName('agenda').catch(() => undefined);
  await q?.obliterate({ force: true }).catch(() => undefined);
  await c?.closeAll();
}

describe('warm container: Redis goes away, then comes back', () => {
  let c: Container;

  beforeAll(async () => {
    await proxy.up();
    c = await loadContainer();
    expect(c.getConfig().redis.url).toContain(`:${proxy.port}`);
  });
  afterAll(() => retire(c));

  it('is healthy and enqueues before the fault', async () => {
    expect((await getHealth(c.health)).status).toBe(200);
    const workMs = uniqueWorkMs();
    await expectCanaryQueued(c, await post(c.createCanary, '/admin/canaries', { queue: 'agenda', workMs }, { headers: auth }), workMs);
  });

  it('answers 503 within 3 s while Redis is down, and writes no canary row', async () => {
    await proxy.down();

    const health = await timed(() => getHealth(c.health));
    expectRedisDown503(health);
    expect(health.body.checks.database.status).toBe('up');

    const workMs = uniqueWorkMs();
    const canary = await timed(() => post(c.createCanary, '/admin/canaries', { queue: 'agenda', workMs }, { headers: auth }));
    expectCanary503(canary);
    expect(await canaryRows(workMs)).toEqual([]);

    // Stay down long enough for ioredis to give up reconnecting (10 attempts, ~7.5 s with the api
    // profile's delays): calls stay bounded in every client state ('reconnecting', then 'end').
    const downSince = Date.now();
    const timings: number[] = [health.measuredMs, canary.measuredMs];
    while (Date.now() - downSince < 8_500) {
      const h = await timed(() => getHealth(c.health));
      expectRedisDown503(h);
      timings.push(h.measuredMs);
      const w = uniqueWorkMs();
      const r = await timed(() => post(c.createCanary, '/admin/canaries', { workMs: w }, { headers: auth }));
      expectCanary503(r);
      expect(await canaryRows(w)).toEqual([]);
      timings.push(r.measuredMs);
      await sleep(500);
    }
    console.info(`dependency-down (warm): 503 timings while down, ms: ${timings.join(', ')}`);
  });

  it('recovers without a restart once Redis is back, and the canary job is in the queue', async () => {
    await proxy.up();
    const health = await healthOnceBack(c);
    expect(health.status).toBe(200);
    expect(health.body.down).toEqual([]);

    const workMs = uniqueWorkMs();
    const canary = await timed(() => post(c.createCanary, '/admin/canaries', { queue: 'agenda', workMs }, { headers: auth }));
    await expectCanaryQueued(c, canary, workMs);
    expect(canary.measuredMs).toBeLessThan(BOUND_MS);
    // Same container all along: the invocation counter kept counting.
    expect(health.body.invocation.coldStart).toBe(false);
    console.info(`dependency-down (warm): after up(), health 200 after ${health.backAfterMs} ms, canary ${canary.measuredMs} ms`);
  });
});

describe('cold container: Redis already down at the first invocation', () => {
  let c: Container;

  beforeAll(async () => {
    await proxy.down();
    c = await loadContainer();
  });
  afterAll(() => retire(c));

  it('answers 503 within 3 s and fails before writing anything', async () => {
    const health = await timed(() => getHealth(c.health));
    expectRedisDown503(health);
    expect(health.body.invocation.coldStart).toBe(true);

    const workMs = uniqueWorkMs();
    const canary = await timed(() => post(c.createCanary, '/admin/canaries', { queue: 'agenda', workMs }, { headers: auth }));
    expectCanary503(canary);
    expect(await canaryRows(workMs)).toEqual([]);
    console.info(`dependency-down (cold): health ${health.measuredMs} ms, canary ${canary.measuredMs} ms`);
  });

  it('recovers when Redis comes up', async () => {
    await proxy.up();
    const health = await healthOnceBack(c);
    if (health.status !== 200) console.error(JSON.stringify(health.body, null, 1));
    expect(health.status).toBe(200);
    const workMs = uniqueWorkMs();
    await expectCanaryQueued(c, await post(c.createCanary, '/admin/canaries', { queue: 'agenda', workMs }, { headers: auth }), workMs);
  });
});

describe('warm container: the network silently drops the Redis socket (blackhole, like NAT after a freeze)', () => {
  let c: Container;

  beforeAll(async () => {
    await proxy.up();
    c = await loadContainer();
  });
  afterAll(() => retire(c));

  it('drops the dead socket after the command bound, reconnects and answers 200 within 3 s', async () => {
    expect((await getHealth(c.health)).status).toBe(200);
    await proxy.blackhole();
    await proxy.up(); // new connections work again; the existing one stays dead

    // The first command gets no reply: after REDIS_COMMAND_TIMEOUT_MS the socket is destroyed,
    // the client reconnects through the healed network and the idempotent reads run once more.
    const during = await timed(() => getHealth(c.health));
    expect(during.status).toBe(200);
    expect(during.measuredMs).toBeGreaterThanOrEqual(900); // it did wait out one command timeout
    expect(during.measuredMs).toBeLessThan(BOUND_MS);

    const after = await timed(() => getHealth(c.health));
    expect(after.status).toBe(200);
    expect(after.measuredMs).toBeLessThan(1_000);
    const workMs = uniqueWorkMs();
    await expectCanaryQueued(c, await post(c.createCanary, '/admin/canaries', { queue: 'agenda', workMs }, { headers: auth }), workMs);
    console.info(`dependency-down (blackhole): 200 in ${during.measuredMs} ms, then 200 in ${after.measuredMs} ms`);
  });
});
