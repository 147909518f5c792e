/**
 * The "Redis is down" memory of function containers (lib/platform/redis/client.ts) and the queue getters'
 * bounded attempts (lib/platform/queues/queues.ts), against the real Redis behind a TCP proxy (the shared
 * server is never touched): after one failed wait for a link, calls fail at once for
 * REDIS_DOWN_RETRY_AFTER_MS, then one caller waits again (bounded) while the others still fail at
 * once; the queue getter makes its attempts within REDIS_READY_TIMEOUT_MS, also when the link is
 * down at the first try, and none while the memory is set; the worker never remembers: it waits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_REDIS_URL } from '../setup/test-env';
import { untilRedisBack } from '../support/redis-link';
import { useSuite } from '../support/suite';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const DOWN_RETRY_AFTER_MS = 1_500;
/** A call refused from memory answers in far less than any wait for a link. */
const AT_ONCE_MS = 100;

const suite = useSuite({
  modules: {
    redis: () => import('../../lib/platform/redis/client'),
    errors: () => import('../../lib/platform/errors/redis-link'),
    queues: () => import('../../lib/platform/queues/queues'),
    observability: () => import('../../lib/platform/observability/logger'),
    config: () => import('../../lib/platform/config'),
  },
});

let proxy: TcpProxy;

/**
 * A new simulated container with these settings (the previous one closed); its configuration is
 * read at once, so later env changes stay out.
 */
async function container(env: Record<string, string>) {
  const saved = { ...process.env };
  Object.assign(process.env, { REDIS_URL: proxy.urlFor(TEST_REDIS_URL), REDIS_DOWN_RETRY_AFTER_MS: String(DOWN_RETRY_AFTER_MS) }, env);
  try {
    const { redis, errors, queues, observability, config } = await suite.reload();
    return { redis, errors, queues, logger: observability.logger, config: config.getConfig() };
  } finally {
    process.env = saved;
  }
}
type Container = Awaited<ReturnType<typeof container>>;

/** Until the client has seen its socket close (it stays `ready` until it processes the close). */
async function linkLost(c: Container): Promise<void> {
  while (c.redis.getRedisIfCreated()?.status === 'ready') await sleep(5);
}

async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const started = Date.now();
  try {
    const value = await call();
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

beforeAll(async () => {
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
});

afterAll(async () => {
  await proxy.close();
});

describe('function container (api profile)', () => {
  it('after one failed wait, fails at once until REDIS_DOWN_RETRY_AFTER_MS has passed; then one caller waits, bounded, while the others still fail at once', async () => {
    await proxy.up();
    const c = await container({ AGENDA_PROFILE: 'api' });
    const readyTimeoutMs = c.config.redis.readyTimeoutMs;
    await c.redis.getRedis();
    expect(c.redis.isRedisMarkedDown()).toBe(false);

    await proxy.down();
    await linkLost(c);
    const first = await timed(() => c.redis.getRedis());
    expect(first.error).toBeInstanceOf(Error);
    expect(first.error).toMatchObject({ code: 'dependency_unavailable', dependency: 'redis' });
    expect(first.error).not.toBeInstanceOf(c.errors.RedisMarkedDownError); // it did wait
    expect(first.ms).toBeGreaterThanOrEqual(readyTimeoutMs - 100);
    expect(first.ms).toBeLessThan(3_000);
    expect(c.redis.isRedisMarkedDown()).toBe(true);

    // Meanwhile: refused at once, still the typed 503 that names Redis.
    const during = [];
    for (let i = 0; i < 5; i += 1) during.push(await timed(() => c.redis.getRedis()));
    for (const r of during) {
      expect(r.error).toBeInstanceOf(c.errors.RedisMarkedDownError);
      expect(r.error).toMatchObject({ code: 'dependency_unavailable', dependency: 'redis' });
      expect(r.ms).toBeLessThan(AT_ONCE_MS);
    }
    // A queue getter makes no attempt while the memory is set.
    const queue = await timed(() => c.queues.getAgendaQueue());
    expect(queue.error).toBeInstanceOf(c.errors.RedisMarkedDownError);
    expect(queue.ms).toBeLessThan(AT_ONCE_MS);

    // The window passes: one caller tries again (and waits its bound); a caller meanwhile does not wait.
    while (c.redis.isRedisMarkedDown()) await sleep(20);
    const probe = timed(() => c.redis.getRedis());
    await sleep(20);
    const beside = await timed(() => c.redis.getRedis());
    expect(beside.error).toBeInstanceOf(c.errors.RedisMarkedDownError);
    expect(beside.ms).toBeLessThan(AT_ONCE_MS);
    const probed = await probe;
    expect(probed.error).not.toBeInstanceOf(c.errors.RedisMarkedDownError);
    expect(probed.ms).toBeLessThan(3_000);
    expect(c.redis.isRedisMarkedDown()).toBe(true);

    // Redis back: the client reconnects in the background, so the link is back within the window
    // at the latest; once it is, the memory is gone.
    await proxy.up();
    const backMs = await untilRedisBack(() => c.redis.getRedis());
    expect(backMs).toBeLessThan(DOWN_RETRY_AFTER_MS + readyTimeoutMs);
    expect(c.redis.isRedisMarkedDown()).toBe(false);
    expect(await (await c.redis.getRedis()).ping()).toBe('PONG');
    console.info(`down memory: first wait ${first.ms} ms, refusals ${during.map((r) => r.ms).join(', ')} ms, probe ${probed.ms} ms, back after ${backMs} ms`);
  });

  it('queue getter: with Redis down at the first try, tries again within REDIS_READY_TIMEOUT_MS and succeeds once Redis answers', async () => {
    await proxy.down();
    // A client that gives up after one reconnect ends at once, so the first attempt fails early
    // and only another attempt can find Redis back.
    const c = await container({ AGENDA_PROFILE: 'api', REDIS_RECONNECT_ATTEMPTS: '1' });
    const started = Date.now();
    const pending = timed(() => c.queues.getAgendaQueue());
    while (!c.redis.isRedisMarkedDown() && Date.now() - started < 3_000) await sleep(5); // the first attempt failed
    expect(c.redis.isRedisMarkedDown()).toBe(true);
    await proxy.up();
    const res = await pending;
    expect(res.error).toBeUndefined();
    expect(res.value).toBeDefined();
    expect(res.ms).toBeLessThan(c.config.redis.readyTimeoutMs + c.config.redis.commandTimeoutMs);
    expect(c.redis.isRedisMarkedDown()).toBe(false);
    console.info(`queue getter: Redis down at the first try, queue ready after ${res.ms} ms`);
  });

  it('queue getter: with Redis down throughout, QUEUE_CONNECT_ATTEMPTS attempts, all within REDIS_READY_TIMEOUT_MS', async () => {
    await proxy.down();
    const c = await container({ AGENDA_PROFILE: 'api' });
    const retries = jest.spyOn(c.logger, 'info');
    const res = await timed(() => c.queues.getWebhookQueue());
    expect(res.error).toMatchObject({ code: 'dependency_unavailable' });
    expect(res.ms).toBeLessThan(c.config.redis.readyTimeoutMs + 200);
    const attempts = retries.mock.calls.filter(([msg]) => msg === 'queue.redis_retry').length + 1;
    expect(attempts).toBe(c.config.queues.connectAttempts);
    expect(c.config.queues.connectAttempts).toBe(3);
    retries.mockRestore();
    console.info(`queue getter: ${attempts} attempts in ${res.ms} ms with Redis down`);
  });
});

describe('worker container', () => {
  it('never remembers an outage: every call waits for the link, bounded by its own REDIS_READY_TIMEOUT_MS', async () => {
    await proxy.down();
    const c = await container({ AGENDA_PROFILE: 'worker', REDIS_READY_TIMEOUT_MS: '400' });
    expect(c.config.redis.downRetryAfterMs).toBe(DOWN_RETRY_AFTER_MS); // set, and ignored by the worker
    for (let i = 0; i < 2; i += 1) {
      const r = await timed(() => c.redis.getRedis());
      expect(r.error).toMatchObject({ code: 'dependency_unavailable' });
      expect(r.error).not.toBeInstanceOf(c.errors.RedisMarkedDownError);
      expect(r.ms).toBeGreaterThanOrEqual(350);
      expect(c.redis.isRedisMarkedDown()).toBe(false);
    }
    await proxy.up();
    await untilRedisBack(() => c.redis.getRedis()); // its next reconnect may be seconds away
    expect(await (await c.redis.getRedis()).ping()).toBe('PONG');
  });
});
