/**
 * Rate limiting per API key on /v1, counted in the real Redis: 429 with Retry-After past the
 * budget, one budget shared by every container, and 503 (fail closed, never a pass) when Redis is
 * unreachable, through a TCP proxy so the shared Redis is never touched.
 */
import { TEST_REDIS_URL } from '../setup/test-env';
import { get, post } from '../support/invoke';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const POINTS = 5;
const WINDOW_S = 10;
process.env.RATE_LIMIT_POINTS = String(POINTS);
process.env.RATE_LIMIT_DURATION_S = String(WINDOW_S);

type Container = {
  fns: typeof import('../../functions/http/clinic');
  newClinic: typeof import('../support/clinic').newClinic;
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
};

/** A fresh module registry: a new simulated Lambda container reading the current env. */
async function loadContainer(): Promise<Container> {
  jest.resetModules();
  return {
    fns: await import('../../functions/http/clinic'),
    newClinic: (await import('../support/clinic')).newClinic,
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

  it('fails closed: 503 within 3 s, not 200, in a warm and in a cold container; recovers after', async () => {
    const warm = await container();
    const a = await warm.newClinic();
    expect((await get(warm.fns.clinic, '/v1/clinic', a.auth)).status).toBe(200);

    await proxy.down();
    const started = Date.now();
    const down = await get(warm.fns.clinic, '/v1/clinic', a.auth);
    const elapsed = Date.now() - started;
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBeDefined();
    expect(down.body.error).toMatchObject({ code: 'dependency_unavailable', details: { dependency: 'redis' } });
    expect(elapsed).toBeLessThan(3_000);
    // Nothing runs behind a limiter that cannot count.
    const write = await post(warm.fns.create, '/v1/api-keys', { name: 'x' }, a.auth);
    expect(write.status).toBe(503);

    const cold = await container();
    const coldStarted = Date.now();
    const coldDown = await get(cold.fns.clinic, '/v1/clinic', a.auth);
    expect(coldDown.status).toBe(503);
    expect(Date.now() - coldStarted).toBeLessThan(3_000);

    await proxy.up();
    expect((await get(warm.fns.clinic, '/v1/clinic', a.auth)).status).toBe(200);
    expect((await get(cold.fns.clinic, '/v1/clinic', a.auth)).status).toBe(200);
    const keys = await import('../../lib/tenancy/clinics');
    expect(await keys.listApiKeys(a.clinicId)).toHaveLength(1); // the 503 write did not happen
    console.info(`rate-limit: 503 with Redis down in ${elapsed} ms (warm)`);
  });
});
