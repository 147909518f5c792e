/**
 * Rate limiting per API key and per clinic on /v1, counted in the real Redis: 429 with Retry-After
 * past either budget (`details.budget` says which), one count shared by every container; a clinic's
 * keys together never pass its budget, and another clinic is not affected. With Redis unreachable
 * (through a TCP proxy, so the shared Redis is never touched) the in-memory insurance limiters keep
 * both budgets per container: requests are answered within 3 s, and past a budget with a 429, never a pass.
 */
import { TEST_REDIS_URL } from '../setup/test-env';
import { get, post, type InvokeResult } from '../support/invoke';
import { untilRedisBack } from '../support/redis-link';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const POINTS = 5;
const CLINIC_POINTS = 8;
const WINDOW_S = 10;
process.env.RATE_LIMIT_POINTS = String(POINTS);
process.env.RATE_LIMIT_CLINIC_POINTS = String(CLINIC_POINTS);
process.env.RATE_LIMIT_DURATION_S = String(WINDOW_S);

type Container = {
  fns: typeof import('../../functions/http/clinic');
  keys: typeof import('../../lib/domain/tenancy/key-issuing');
  newClinic: typeof import('../support/clinic').newClinic;
  redis: typeof import('../../lib/platform/redis/client');
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
};

/** A fresh module registry: a new simulated Lambda container reading the current env. */
async function loadContainer(): Promise<Container> {
  jest.resetModules();
  return {
    fns: await import('../../functions/http/clinic'),
    keys: await import('../../lib/domain/tenancy/key-issuing'),
    newClinic: (await import('../support/clinic')).newClinic,
    redis: await import('../../lib/platform/redis/client'),
    closeAll: (await import('../../lib/platform/lifecycle/close-all')).closeAll,
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
        details: { budget: 'key', reason: 'rate_limited_key', limit: POINTS, windowSeconds: WINDOW_S, retryAfterSeconds: retryAfter },
      },
    });
    // A POST past the budget does not run either.
    const blocked = await post(c.fns.create, '/v1/api-keys', { name: 'x' }, a.auth);
    expect(blocked.status).toBe(429);
    const keys = await import('../../lib/domain/tenancy/clinics');
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

/** A clinic with `n` keys in all (minted through the service: no request of the budgets spent). */
async function clinicWithKeys(c: Container, n: number) {
  const a = await c.newClinic();
  const caller = { clinicId: a.clinicId, apiKeyId: '', timeZone: 'UTC', scopes: ['read', 'write', 'admin'] };
  const more = [];
  for (let i = 1; i < n; i += 1) more.push((await c.keys.issueApiKey(caller, `k${i}`, ['read'])).key);
  return { ...a, auths: [a.key, ...more].map((key) => ({ headers: { authorization: `Bearer ${key}` } })) };
}

describe('rate limit per clinic', () => {
  it("counts every key of a clinic against the clinic's budget: 429 naming it, while another clinic goes on", async () => {
    const c = await container();
    const a = await clinicWithKeys(c, 3);
    const b = await c.newClinic();
    const statuses: number[] = [];
    // Round robin over 3 keys: none reaches its own 5, the clinic reaches its 8.
    for (let i = 0; i < CLINIC_POINTS; i += 1) statuses.push((await get(c.fns.clinic, '/v1/clinic', a.auths[i % 3])).status);
    expect(statuses).toEqual(Array(CLINIC_POINTS).fill(200));
    const limited = await get(c.fns.clinic, '/v1/clinic', a.auths[2]); // this key spent 2 of its 5
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(limited.body.error).toEqual({
      code: 'rate_limited',
      message: "Too many requests from this clinic's API keys together. Slow down.",
      details: { budget: 'clinic', reason: 'rate_limited_clinic', limit: CLINIC_POINTS, windowSeconds: WINDOW_S, retryAfterSeconds: retryAfter },
    });
    const ptBR = await get(c.fns.clinic, '/v1/clinic', { headers: { ...a.auths[0]!.headers, 'accept-language': 'pt-BR' } });
    expect(ptBR.body.error.message).toBe('Requisições demais das chaves de API desta clínica somadas. Aguarde um pouco.');
    // A key minted now does not bring more budget.
    const fresh = await c.keys.issueApiKey({ clinicId: a.clinicId, apiKeyId: '', timeZone: 'UTC', scopes: ['read'] }, 'fresh', ['read']);
    expect((await get(c.fns.clinic, '/v1/clinic', { headers: { authorization: `Bearer ${fresh.key}` } })).body.error.details.budget).toBe('clinic');
    // Another clinic has its own.
    const other = await get(c.fns.clinic, '/v1/clinic', b.auth);
    expect(other.status).toBe(200);
    expect(other.headers['ratelimit-remaining']).toBe(String(POINTS - 1));
  });

  it('reports the tighter budget in RateLimit-* headers', async () => {
    const c = await container();
    const a = await clinicWithKeys(c, 2);
    for (let i = 0; i < 4; i += 1) await get(c.fns.clinic, '/v1/clinic', a.auths[0]); // key 4/5, clinic 4/8
    const res = await get(c.fns.clinic, '/v1/clinic', a.auths[1]); // key 1/5, clinic 5/8: the clinic is tighter
    expect(res.headers['ratelimit-limit']).toBe(String(CLINIC_POINTS));
    expect(res.headers['ratelimit-remaining']).toBe(String(CLINIC_POINTS - 5));
  });

  it('keeps the two counters in single keys (Redis Cluster: one slot per operation)', async () => {
    const c = await container();
    const a = await clinicWithKeys(c, 1);
    await get(c.fns.clinic, '/v1/clinic', a.auth);
    const redis = await c.redis.getRedis();
    const prefix = process.env.RATE_LIMIT_KEY_PREFIX ?? 'agenda:rl';
    expect(await redis.get(`${prefix}:clinic:${a.clinicId}`)).toBe('1');
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
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', details: { budget: 'key', limit: POINTS, windowSeconds: WINDOW_S } });
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
    const keys = await import('../../lib/domain/tenancy/clinics');
    expect(await keys.listApiKeys(a.clinicId)).toHaveLength(1); // the refused write did not happen
    console.info(`rate-limit: with Redis down, ms per request: ${timings.join(', ')}`);
  });

  it("keeps the clinic's budget too, in memory, across its keys", async () => {
    const c = await container();
    const a = await clinicWithKeys(c, 3);
    await proxy.down();
    const statuses: number[] = [];
    for (let i = 0; i <= CLINIC_POINTS; i += 1) statuses.push((await get(c.fns.clinic, '/v1/clinic', a.auths[i % 3])).status);
    expect(statuses).toEqual([...Array(CLINIC_POINTS).fill(200), 429]);
    expect((await get(c.fns.clinic, '/v1/clinic', a.auths[1])).body.error.details.budget).toBe('clinic');
    await proxy.up();
    await untilRedisBack(() => c.redis.getRedis());
  });
});
