/**
 * Warm reuse, counted on the servers: one simulated Lambda container (this file's module registry)
 * serves 1,000 GET /health invocations, each of which reads PostgreSQL and Redis. PostgreSQL must
 * never see more backends for this container's application_name than the pool's max, and Redis
 * must see exactly one client with this container's name, whose id never changes.
 */
import IORedis from 'ioredis';
import { Client } from 'pg';
import { get } from '../support/invoke';

const INVOCATIONS = 1_000;
const SAMPLE_EVERY = 10;

type Product = {
  handler: typeof import('../../functions/http/health').handler;
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
  getConfig: typeof import('../../lib/config').getConfig;
  applicationName: typeof import('../../lib/db/pool').applicationName;
  getPoolIfCreated: typeof import('../../lib/db/client').getPoolIfCreated;
};

interface RedisClientEntry {
  id: string;
  name: string;
  addr: string;
}

function parseClientList(text: string): RedisClientEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => Object.fromEntries(line.trim().split(' ').map((kv) => kv.split('=', 2) as [string, string])))
    .map((o) => ({ id: o.id ?? '', name: o.name ?? '', addr: o.addr ?? '' }));
}

describe('warm container reuse (1,000 invocations of GET /health)', () => {
  let product: Product;
  let pgObserver: Client;
  let redisObserver: IORedis;
  let appName: string;

  beforeAll(async () => {
    process.env.AGENDA_PROFILE = 'api';
    product = {
      handler: (await import('../../functions/http/health')).handler,
      closeAll: (await import('../../lib/lifecycle/close-all')).closeAll,
      getConfig: (await import('../../lib/config')).getConfig,
      applicationName: (await import('../../lib/db/pool')).applicationName,
      getPoolIfCreated: (await import('../../lib/db/client')).getPoolIfCreated,
    };
    appName = product.applicationName(product.getConfig());
    // Observers: test-owned connections that look at the servers from outside the container.
    pgObserver = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'agenda-test-observer' });
    await pgObserver.connect();
    redisObserver = new IORedis(process.env.REDIS_URL!, { connectionName: 'agenda-test-observer', lazyConnect: true });
    await redisObserver.connect();
  });

  afterAll(async () => {
    await product?.closeAll();
    await pgObserver?.end();
    redisObserver?.disconnect();
  });

  async function pgBackends(): Promise<{ pid: number; backendStart: string }[]> {
    const { rows } = await pgObserver.query<{ pid: number; backend_start: Date }>(
      'SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = $1',
      [appName],
    );
    return rows.map((r) => ({ pid: r.pid, backendStart: r.backend_start.toISOString() }));
  }

  async function redisClients(): Promise<RedisClientEntry[]> {
    const list = (await redisObserver.client('LIST')) as string;
    return parseClientList(list).filter((c) => c.name === appName);
  }

  it('keeps one connection set for the whole life of the container', async () => {
    const { db } = product.getConfig();
    expect(db.poolMax).toBe(2);
    expect(await pgBackends()).toEqual([]); // nothing opened before the first invocation
    expect(await redisClients()).toEqual([]);

    const distinctBackends = new Set<string>(); // pid@backend_start: a reused pid is still a new session
    const redisIds = new Set<string>();
    let maxConcurrentBackends = 0;
    let maxRedisEntries = 0;
    let poolConnects = 0;
    let containerId: string | undefined;
    let samples = 0;

    const sample = async () => {
      const [backends, clients] = await Promise.all([pgBackends(), redisClients()]);
      samples += 1;
      maxConcurrentBackends = Math.max(maxConcurrentBackends, backends.length);
      maxRedisEntries = Math.max(maxRedisEntries, clients.length);
      for (const b of backends) distinctBackends.add(`${b.pid}@${b.backendStart}`);
      for (const c of clients) redisIds.add(c.id);
      expect(clients).toHaveLength(1);
    };

    const started = Date.now();
    for (let i = 1; i <= INVOCATIONS; i += 1) {
      const res = await get(product.handler, '/health', { routeKey: 'GET /health', functionName: 'agenda-test-health' });
      expect(res.status).toBe(200);
      expect(res.body.status).not.toBe('unavailable');
      expect(res.body.checks.database.status).toBe('up');
      expect(res.body.checks.redis.status).toBe('up');
      expect(res.body.checks.queues.status).toBe('up');
      // Cold on the first invocation, warm on every later one, counted per container.
      expect(res.body.invocation).toEqual({ containerId: expect.any(String), coldStart: i === 1, invocation: i });
      containerId ??= res.body.invocation.containerId;
      expect(res.body.invocation.containerId).toBe(containerId);
      expect(res.body.container.invocations).toBe(i);

      if (i === 1) {
        // Client-side count as a cross-check: every physical connection the pool opens emits 'connect'.
        product.getPoolIfCreated()!.on('connect', () => {
          poolConnects += 1;
        });
      }
      if (i === 1 || i % SAMPLE_EVERY === 0) await sample();
    }
    const elapsedMs = Date.now() - started;
    await sample();

    expect(appName).toBe(`agenda-api-${containerId}`);
    // PostgreSQL: never more backends than the pool's max, at any sample or over the whole run.
    expect(maxConcurrentBackends).toBeGreaterThanOrEqual(1);
    expect(maxConcurrentBackends).toBeLessThanOrEqual(db.poolMax);
    expect(distinctBackends.size).toBeLessThanOrEqual(db.poolMax);
    expect(poolConnects).toBeLessThanOrEqual(db.poolMax - 1); // the first was opened by invocation 1
    // Redis: exactly one client with this container's name, and always the same one.
    expect(maxRedisEntries).toBe(1);
    expect(redisIds.size).toBe(1);
    expect(samples).toBe(INVOCATIONS / SAMPLE_EVERY + 2);

    // Recorded for the report: how quick a warm invocation is once the connections exist.
    // eslint-disable-next-line no-console
    console.info(
      `warm-reuse: ${INVOCATIONS} invocations in ${elapsedMs} ms; ` +
        `pg backends seen=${distinctBackends.size} (max concurrent ${maxConcurrentBackends}, pool max ${db.poolMax}); ` +
        `redis client ids seen=${[...redisIds].join(',')}`,
    );
  });
});
