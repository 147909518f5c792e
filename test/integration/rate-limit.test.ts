/**
 * Rate limiting per API key on /v1, counted in the real Redis: 429 with Retry-After past the
 * budget, one budget shared by every container. With Redis unreachable (through a TCP proxy, so the
 * shared Redis is never touched) the in-memory insurance limiter keeps the same budget per
 * container: requests are answered within 3 s, and past the budget with a 429, never a pass.
 */
import { TEST_REDIS_URL } from '../setup/test-env';
import { get, post, type InvokeResult } from '../support/invoke';
import { untilRedisBack } from '../support/redis-link';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const POINTS = 5;
const WINDOW_S = 10;
process.env.RATE_LIMIT_POINTS = String(POINTS);
process.env.RATE_LIMIT_DURATION_S = String(WINDOW_S);

type Container = {
  fns: typeof import('../../functions/http/clinic');
  newClinic: typeof import('../support/clinic').newClinic;
  redis: typeof import('../../lib/redis/client');
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
};

/** A fresh module registry: a new simulated Lambda container reading the current env. */
async function loadContainer(): Promise<Container> {
  jest.resetModules();
  return {
    fns: await import('../../functions/http/clinic'),
    newClinic: (await import('../support/clinic')).newClinic,
    redis: await import('../../lib/redis/client'),
    closeAll: (await import('../../lib/lifecycle/close-all')).closeAll,
  };
}

const containers: Container[] = [];
async function container(): Promise<Container> {
  const c = await loadContainer();
  containers.push(c);
  return c;
}

afterAll(async () => {
  for (const c of containers) await c.closeAll();
});

describe('rate limit per API key', () => {
  it('answers 429 with Retry-After and a JSON body once the budget is spent', async () => {
    const c = await container();
    const a = await c.newClinic();
    for (let i = 1; i <= POINTS; i += 1) {
      const ok = await get(c.fns.clinic, '/v1/clinic', a.auth);
      expect(ok.status).toBe(200);
      expect(ok.headers['ratelimit-limit']).toBe(String(POINTS));
      expect(ok.headers['ratelimit-remaining']).toBe(String(POINTS - i));
    }
    const limited = await get(c.fns.clinic, '/v1/clinic', a.auth);
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/application\/json/);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
    expect(limited.body).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.any(String),
        details: { limit: POINTS, windowSeconds: WINDOW_S, retryAfterSeconds: retryAfter },
      },
    });
    // A POST past the budget does not run either.
    const blocked = await post(c.fns.create, '/v1/api-keys', { name: 'x' }, a.auth);
    expect(blocked.status).toBe(429);
    const keys = await import('../../lib/tenancy/clinics');
    expect(await keys.listApiKeys(a.clinicId)).toHaveLength(1);
  });

  it('counts per key: another key of the same clinic has its own budget', async () => {
    const c = await container();
    const a = await c.newClinic();
    const second = await post(c.fns.create, '/v1/api-keys', { name: 'second' }, a.auth); // 1 of a's budget
    expect(second.status).toBe(201);
    for (let i = 0; i < POINTS - 1; i += 1) await get(c.fns.clinic, '/v1/clinic', a.auth);
    expect((await get(c.fns.clinic, '/v1/clinic', a.auth)).status).toBe(429);
    const other = { headers: { authorization: `Bearer ${second.body.key}` } };
    expect((await get(c.fns.clinic, '/v1/clinic', other)).status).toBe(200);
  });

  it('shares one budget between containers (the count lives in Redis)', async () => {
    const one = await container();
    const a = await one.newClinic();
    const two = await container();
    expect(two.fns).not.toBe(one.fns);

    const statuses: number[] = [];
    for (let i = 0; i < POINTS; i += 1) {
      const c = i % 2 === 0 ? one : two; // alternate containers
      statuses.push((await get(c.fns.clinic, '/v1/clinic', a.auth)).status);
    }
    expect(statuses).toEqual(Array(POINTS).fill(200));
    expect((await get(one.fns.clinic, '/v1/clinic', a.auth)).status).toBe(429);
    expect((await get(two.fns.clinic, '/v1/clinic', a.auth)).status).toBe(429);
  });
});

describe('Redis unreachable', () => {
  let proxy: TcpProxy;
  const savedUrl = process.env.REDIS_URL;

  beforeAll(async () => {
    const target = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    process.env.REDIS_URL = proxy.urlFor(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await proxy.up();
    process.env.REDIS_URL = savedUrl;
    for (const c of containers.splice(0)) await c.closeAll();
    await proxy.close();
  });

  it('keeps limiting per container in memory: 200 within 3 s, then 429, in a warm and in a cold container; Redis counts again after', async () => {
    const warm = await container();
    const a = await warm.newClinic();
    expect((await get(warm.fns.clinic, '/v1/clinic', a.auth)).status).toBe(200); // 1 point in Redis

    await proxy.down();
    const timings: number[] = [];
    const timed = async (call: () => Promise<InvokeResult>) => {
      const started = Date.now();
      const res = await call();
      timings.push(Date.now() - started);
      expect(Date.now() - started).toBeLessThan(3_000);
      return res;
    };
    // The container's memory counts the whole budget again: Redis's count is out of reach.
    for (let i = 1; i <= POINTS; i += 1) {
      const res = await timed(() => get(warm.fns.clinic, '/v1/clinic', a.auth));
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-remaining']).toBe(String(POINTS - i));
    }
    const limited = await timed(() => get(warm.fns.clinic, '/v1/clinic', a.auth));
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', details: { limit: POINTS, windowSeconds: WINDOW_S } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Nothing runs past the budget: a write is refused too, and writes nothing.
    expect((await timed(() => post(warm.fns.create, '/v1/api-keys', { name: 'x' }, a.auth))).status).toBe(429);

    // Another container has a budget of its own while Redis is away (per container, documented).
    const cold = await container();
    expect((await timed(() => get(cold.fns.clinic, '/v1/clinic', a.auth))).status).toBe(200);

    await proxy.up();
    await untilRedisBack(() => warm.redis.getRedis());
    await untilRedisBack(() => cold.redis.getRedis());
    // Back on Redis's count: 1 point before the outage, and the cold container's request of
    // the outage was counted in its memory only.
    const statuses: number[] = [];
    for (let i = 0; i < POINTS; i += 1) statuses.push((await get(i % 2 ? cold.fns.clinic : warm.fns.clinic, '/v1/clinic', a.auth)).status);
    expect(statuses).toEqual([...Array(POINTS - 1).fill(200), 429]);
    const keys = await import('../../lib/tenancy/clinics');
    expect(await keys.listApiKeys(a.clinicId)).toHaveLength(1); // the refused write did not happen
    console.info(`rate-limit: with Redis down, ms per request: ${timings.join(', ')}`);
  });
});
