/**
 * Warm reuse, counted on the servers: one simulated Lambda container (this file's module registry)
 * serves 1,000 GET /health invocations, each of which reads PostgreSQL and Redis, each followed by a
 * read of the four queues' depths through the container's queue getters.
 *
 * Two views of the servers, so a leak cannot hide behind a name:
 * - named: the backends and clients that carry this container's name (the product names them);
 * - everything: every PostgreSQL backend of the test database started after the run began, and
 *   every Redis client whose id is above the highest id that existed before the run, whatever
 *   their names (or none), plus the servers' own connection counters (pg_stat_database.sessions,
 *   INFO total_connections_received), which also count a connection opened and closed between two
 *   samples. Only this test's observers are left out: they connect before the baseline, under a
 *   name of their own. Jest runs files in band, so nothing else connects to these servers meanwhile.
 *
 * PostgreSQL must never see more of them than the pool's max; Redis exactly one, the container's
 * client, which the four BullMQ queues share.
 */
import IORedis from 'ioredis';
import { Client } from 'pg';
import { getHealth } from '../support/invoke';
import { useSuite } from '../support/suite';

const INVOCATIONS = 1_000;
const OBSERVER = `agenda-test-observer-warm-reuse-${process.pid}`;

const { health, config, pool, dbClient, queues, queueNames } = useSuite({
  env: { AGENDA_PROFILE: 'api' },
  modules: {
    health: () => import('../../functions/http/health'),
    config: () => import('../../lib/platform/config'),
    pool: () => import('../../lib/platform/db/pool'),
    dbClient: () => import('../../lib/platform/db/client'),
    queues: () => import('../../lib/platform/queues/queues'),
    queueNames: () => import('../../lib/platform/config/queue-names'),
  },
}).m;

/** The four queues' depths through the container's own queue getters. */
const queueCounts = () => Promise.all(queueNames.QUEUE_NAMES.map(async (q) => (await queues.getQueueByName(q)).count()));

interface RedisClientEntry {
  id: number;
  name: string;
  addr: string;
}

interface PgBackend {
  /** pid@backend_start: a reused pid is still a new session. */
  key: string;
  applicationName: string;
}

function parseClientList(text: string): RedisClientEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => Object.fromEntries(line.trim().split(' ').map((kv) => kv.split('=', 2) as [string, string])))
    .map((o) => ({ id: Number(o.id), name: o.name ?? '', addr: o.addr ?? '' }));
}

describe('warm container reuse (1,000 invocations of GET /health)', () => {
  let pgObserver: Client;
  let redisObserver: IORedis;
  let appName: string;
  let database: string;

  beforeAll(async () => {
    appName = pool.applicationName(config.getConfig());
    database = new URL(process.env.DATABASE_URL!).pathname.slice(1);
    // Observers: test-owned connections that look at the servers from outside the container.
    pgObserver = new Client({ connectionString: process.env.DATABASE_URL, application_name: OBSERVER });
    await pgObserver.connect();
    redisObserver = new IORedis(process.env.REDIS_URL!, { connectionName: OBSERVER, lazyConnect: true });
    await redisObserver.connect();
  });

  afterAll(async () => {
    await pgObserver?.end();
    redisObserver?.disconnect();
  });

  /** Server clock, as text so no precision is lost (backend_start has microseconds). */
  async function pgNow(): Promise<string> {
    return (await pgObserver.query<{ now: string }>('SELECT clock_timestamp()::text AS now')).rows[0]!.now;
  }

  /** Sessions ever opened to this database (counted at connect, so short-lived ones too). */
  async function pgSessionsOpened(): Promise<number> {
    const { rows } = await pgObserver.query<{ sessions: string }>(
      'SELECT sessions FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    return Number(rows[0]!.sessions);
  }

  /** Every backend of the test database started after `since`, whatever its name; not the observer's. */
  async function pgBackendsSince(since: string): Promise<PgBackend[]> {
    const { rows } = await pgObserver.query<{ pid: number; backend_start: string; application_name: string }>(
      `SELECT pid, backend_start::text, application_name FROM pg_stat_activity
        WHERE datname = $1 AND backend_start > $2::timestamptz AND application_name <> $3`,
      [database, since, OBSERVER],
    );
    return rows.map((r) => ({ key: `${r.pid}@${r.backend_start}`, applicationName: r.application_name }));
  }

  async function redisClients(): Promise<RedisClientEntry[]> {
    return parseClientList((await redisObserver.client('LIST')) as string);
  }

  async function redisConnectionsReceived(): Promise<number> {
    const info = await redisObserver.info('stats');
    return Number(/^total_connections_received:(\d+)/m.exec(info)![1]);
  }

  it('keeps one connection set for the whole life of the container', async () => {
    const { db } = config.getConfig();
    expect(db.poolMax).toBe(2);

    // Baselines, after the observers connected (their own connections are counted before it).
    const runStart = await pgNow();
    const pgSessionsBefore = await pgSessionsOpened();
    const redisBefore = await redisClients();
    const redisBaselineId = Math.max(...redisBefore.map((c) => c.id));
    const redisConnectionsBefore = await redisConnectionsReceived();
    // Nothing opened before the first invocation.
    expect(await pgBackendsSince(runStart)).toEqual([]);
    expect(redisBefore.filter((c) => c.name === appName)).toEqual([]);

    const pgSeen = new Map<string, string>(); // every new backend: key -> application_name
    const redisSeen = new Map<number, string>(); // every new client: id -> name
    let maxConcurrentBackends = 0;
    let poolConnects = 0;
    let containerId: string | undefined;

    const sample = async () => {
      const [backends, clients] = await Promise.all([pgBackendsSince(runStart), redisClients()]);
      maxConcurrentBackends = Math.max(maxConcurrentBackends, backends.length);
      for (const b of backends) pgSeen.set(b.key, b.applicationName);
      const fresh = clients.filter((c) => c.id > redisBaselineId);
      for (const c of fresh) redisSeen.set(c.id, c.name);
      // At every sample: exactly one new Redis client, and it is the container's.
      expect(fresh.map((c) => c.name)).toEqual([appName]);
    };

    const started = Date.now();
    for (let i = 1; i <= INVOCATIONS; i += 1) {
      const res = await getHealth(health.handler, { routeKey: 'GET /health', functionName: 'agenda-test-health' });
      expect(res.status).toBe(200);
      expect(res.body.status).not.toBe('unavailable');
      expect(res.body.checks.database.status).toBe('up');
      expect(res.body.checks.redis.status).toBe('up');
      expect(await queueCounts()).toHaveLength(4);
      // Cold on the first invocation, warm on every later one, counted per container.
      expect(res.body.invocation).toEqual({ containerId: expect.any(String), coldStart: i === 1, invocation: i });
      containerId ??= res.body.invocation.containerId;
      expect(res.body.invocation.containerId).toBe(containerId);
      expect(res.body.container.invocations).toBe(i);

      if (i === 1) {
        // Client-side count as a cross-check: every physical connection the pool opens emits 'connect'.
        dbClient.getPoolIfCreated()!.on('connect', () => {
          poolConnects += 1;
        });
      }
      await sample(); // after every invocation: a leak lives at least until the next sample
    }
    const elapsedMs = Date.now() - started;
    const pgSessions = (await pgSessionsOpened()) - pgSessionsBefore;
    const redisConnections = (await redisConnectionsReceived()) - redisConnectionsBefore;

    expect(appName).toBe(`agenda-api-${containerId}`);
    // PostgreSQL, whatever the names: never more backends than the pool's max, at any sample or
    // over the whole run, and the server opened no more sessions than that either.
    expect(maxConcurrentBackends).toBeGreaterThanOrEqual(1);
    expect(maxConcurrentBackends).toBeLessThanOrEqual(db.poolMax);
    expect(pgSeen.size).toBeGreaterThanOrEqual(1);
    expect(pgSeen.size).toBeLessThanOrEqual(db.poolMax);
    // Every session the server opened was seen by a sample (none opened and closed in between).
    expect(pgSessions).toBe(pgSeen.size);
    // ... and they are all the container's.
    expect([...new Set(pgSeen.values())]).toEqual([appName]);
    expect(poolConnects).toBeLessThanOrEqual(db.poolMax - 1); // the first was opened by invocation 1
    // Redis, whatever the names: one connection over the whole run, the container's, never replaced.
    expect([...redisSeen.values()]).toEqual([appName]);
    expect(redisConnections).toBe(1);

    // Recorded for the report: how quick a warm invocation is once the connections exist.
    // eslint-disable-next-line no-console
    console.info(
      `warm-reuse: ${INVOCATIONS} invocations in ${elapsedMs} ms; ` +
        `pg backends seen=${pgSeen.size} (max concurrent ${maxConcurrentBackends}, sessions opened ${pgSessions}, pool max ${db.poolMax}); ` +
        `redis clients opened=${redisConnections} (ids ${[...redisSeen.keys()].join(',')})`,
    );
  });
});
