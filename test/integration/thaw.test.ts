/**
 * Thaw: a warm container's connections die between two invocations (server-side kill, or the
 * network silently dropping the sockets while the container was frozen). The next invocation must
 * still answer, with the connections replaced, and nothing may escape as an uncaught exception or
 * unhandled rejection (an idle pg client's error or an ioredis error without a listener would).
 *
 * Two ways a connection can be dead when the next invocation starts, tested separately:
 * - the container saw it die (its event loop ran after the kill): pg-pool evicts the idle client,
 *   ioredis reconnects; the next invocation must wait for, or open, a fresh connection;
 * - the container did not (it was frozen): its next query is written to the dead socket and fails,
 *   and only the retry in lib/platform/db/client.ts (model reads) can hide that from the caller. A real
 *   freeze is reproduced by blocking this process's event loop while a child process does the kill.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../setup/test-env';
import { get, type InvokeResult, getHealth } from '../support/invoke';
import { useSuite } from '../support/suite';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const ADMIN_SECRET = 'thaw-test-admin-secret-0123456789';

const suite = useSuite({
  // Function containers on the database itself; the blackhole cases point DATABASE_URL at a proxy
  // and shorten the timeouts for their own container. All of it is restored after the file.
  env: {
    AGENDA_PROFILE: 'api',
    ADMIN_SECRET,
    DATABASE_URL: TEST_DATABASE_URL,
    DB_STATEMENT_TIMEOUT_MS: undefined,
    DB_CONNECT_TIMEOUT_MS: undefined,
    HEALTH_CHECK_TIMEOUT_MS: undefined,
  },
  modules: {
    config: () => import('../../lib/platform/config'),
    pool: () => import('../../lib/platform/db/pool'),
    db: () => import('../../lib/platform/db/client'),
    health: () => import('../../functions/http/health'),
    admin: () => import('../../functions/http/admin'),
    queues: () => import('../../lib/platform/queues/queues'),
    queueNames: () => import('../../lib/platform/config/queue-names'),
    lifecycle: () => import('../../lib/platform/lifecycle/close-all'),
  },
});

type Container = {
  health: typeof import('../../functions/http/health').handler;
  canaryGet: typeof import('../../functions/http/admin').getCanaryRun;
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
  getConfig: typeof import('../../lib/platform/config').getConfig;
  appName: string;
  getDb: typeof import('../../lib/platform/db/client').getDb;
  getPoolIfCreated: typeof import('../../lib/platform/db/client').getPoolIfCreated;
  /** The four queues' depths through the container's own queue getters (its shared Redis client). */
  queueCounts: () => Promise<number[]>;
};

/** The suite's current container (a new one after `suite.reload()`), as the cases use it. */
function container(): Container {
  const { config, pool, db, health, admin, queues, queueNames, lifecycle } = suite.m;
  return {
    health: health.handler,
    canaryGet: admin.getCanaryRun,
    closeAll: lifecycle.closeAll,
    getConfig: config.getConfig,
    appName: pool.applicationName(config.getConfig()),
    getDb: db.getDb,
    getPoolIfCreated: db.getPoolIfCreated,
    queueCounts: () => Promise.all(queueNames.QUEUE_NAMES.map(async (q) => (await queues.getQueueByName(q)).count())),
  };
}

/**
 * Jest runs the test file in a VM whose `process` is a copy: listeners on it never fire. jest-circus
 * keeps the real process in its state; listening there sees what would crash a Lambda runtime.
 * (jest-circus also fails the running test on these events; recording them makes the check explicit.)
 */
function watchProcessErrors() {
  const sym = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === 'JEST_STATE_SYMBOL');
  const state = sym ? (globalThis as Record<symbol, { parentProcess?: NodeJS.Process }>)[sym] : undefined;
  const real = state?.parentProcess ?? process;
  const seen: string[] = [];
  const onUncaught = (err: Error) => seen.push(`uncaughtException: ${err.message}`);
  const onUnhandled = (reason: unknown) => seen.push(`unhandledRejection: ${(reason as Error)?.message ?? String(reason)}`);
  real.on('uncaughtException', onUncaught);
  real.on('unhandledRejection', onUnhandled);
  return {
    usingRealProcess: real !== process,
    seen,
    stop() {
      real.off('uncaughtException', onUncaught);
      real.off('unhandledRejection', onUnhandled);
    },
  };
}

const OBSERVER = `agenda-test-observer-thaw-${process.pid}`;
const ROOT = path.join(__dirname, '..', '..');

let pgObserver: Client;
let redisObserver: IORedis;
let errors: ReturnType<typeof watchProcessErrors>;

beforeAll(async () => {
  errors = watchProcessErrors();
  pgObserver = new Client({ connectionString: TEST_DATABASE_URL, application_name: OBSERVER });
  await pgObserver.connect();
  redisObserver = new IORedis(process.env.REDIS_URL!, { connectionName: OBSERVER, lazyConnect: true });
  await redisObserver.connect();
});

afterAll(async () => {
  errors?.stop();
  await pgObserver?.end();
  redisObserver?.disconnect();
});

afterEach(() => {
  // Checked after every case, so late events (a socket closing after the answer) count too.
  expect(errors.usingRealProcess).toBe(true);
  expect(errors.seen).toEqual([]);
});

/**
 * Kills a container's PostgreSQL backends and/or Redis client while the container is frozen: this
 * process's event loop is blocked for the whole kill (a synchronous child process does it), so the
 * container's sockets receive the server's FATAL/FIN but nothing reads them until the caller's next
 * invocation has already written its first command, exactly as after a Lambda thaw.
 */
function killWhileFrozen(appName: string, what: { pg: boolean; redis: boolean }): { pids: number[]; ids: string[] } {
  const script = `
    const { Client } = require('pg');
    const Redis = require('ioredis');
    (async () => {
      const out = { pids: [], ids: [] };
      if (process.env.KILL_PG === '1') {
        const pg = new Client({ connectionString: process.env.KILL_DATABASE_URL, application_name: process.env.KILL_OBSERVER });
        await pg.connect();
        // With a timeout, pg_terminate_backend returns once the backend has exited (its FATAL sent).
        const { rows } = await pg.query(
          'SELECT pid, pg_terminate_backend(pid, 5000) AS ok FROM pg_stat_activity WHERE application_name = $1',
          [process.env.KILL_APP_NAME],
        );
        await pg.end();
        if (!rows.every((r) => r.ok)) throw new Error('pg_terminate_backend failed');
        out.pids = rows.map((r) => r.pid);
      }
      if (process.env.KILL_REDIS === '1') {
        const redis = new Redis(process.env.KILL_REDIS_URL, { connectionName: process.env.KILL_OBSERVER, lazyConnect: true });
        await redis.connect();
        const list = await redis.client('LIST');
        for (const line of list.split('\\n')) {
          if (!line.includes(' name=' + process.env.KILL_APP_NAME + ' ')) continue;
          const id = /(?:^|\\s)id=(\\d+)/.exec(line)[1];
          if ((await redis.client('KILL', 'ID', id)) !== 1) throw new Error('CLIENT KILL failed');
          out.ids.push(id);
        }
        redis.disconnect();
      }
      await new Promise((r) => setTimeout(r, 100)); // let the closes reach the container's sockets
      process.stdout.write(JSON.stringify(out));
    })().catch((err) => { console.error(err); process.exit(1); });
  `;
  const stdout = execFileSync(process.execPath, ['-e', script], {
    cwd: ROOT, // resolves pg and ioredis from the repo's node_modules
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      ...process.env,
      KILL_PG: what.pg ? '1' : '0',
      KILL_REDIS: what.redis ? '1' : '0',
      KILL_DATABASE_URL: TEST_DATABASE_URL,
      KILL_REDIS_URL: process.env.REDIS_URL,
      KILL_APP_NAME: appName,
      KILL_OBSERVER: OBSERVER,
    },
  });
  return JSON.parse(stdout) as { pids: number[]; ids: string[] };
}

async function pgPids(appName: string): Promise<number[]> {
  const { rows } = await pgObserver.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid',
    [appName],
  );
  return rows.map((r) => r.pid);
}

async function redisIds(appName: string): Promise<string[]> {
  const list = (await redisObserver.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${appName} `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
}

/** /health answered healthy, and the container's queues (which /health no longer reads) answer too. */
async function expectHealthy(c: Container, res: InvokeResult) {
  if (res.status !== 200) console.error(JSON.stringify(res.body, null, 1));
  expect(res.status).toBe(200);
  expect(res.body.checks.database).toMatchObject({ status: 'up' });
  expect(res.body.checks.redis).toMatchObject({ status: 'up' });
  expect(res.body.down).toEqual([]);
  expect(await c.queueCounts()).toHaveLength(4);
}

describe('thaw after the servers killed the container connections', () => {
  let c: Container;
  let canaryId: string;
  /** Errors the pool emitted for idle clients: a kill the container saw while idle. */
  let idleErrors: string[];

  beforeAll(async () => {
    c = container();
    const db = await c.getDb();
    idleErrors = [];
    c.getPoolIfCreated()!.on('error', (err) => idleErrors.push(err.message));
    // A row for a model read to find (GET /admin/canaries/{id} is a findUnique).
    canaryId = (await db.canaryRun.create({ data: { queue: 'agenda', workMs: 0 } })).id;
  });
  afterAll(async () => {
    if (canaryId) await pgObserver.query('DELETE FROM canary_runs WHERE id = $1', [canaryId]);
  });
  beforeEach(() => {
    idleErrors.length = 0;
  });

  const getCanary = () =>
    get(c.canaryGet, `/admin/canaries/${canaryId}`, {
      routeKey: 'GET /admin/canaries/{id}',
      pathParameters: { id: canaryId },
      headers: { authorization: `Bearer ${ADMIN_SECRET}` },
    });

  /** Kills from the observers, awaited: the container's event loop runs, so it sees the closes. */
  async function killEverything(): Promise<{ pids: number[]; ids: string[] }> {
    const pids = await pgPids(c.appName);
    const ids = await redisIds(c.appName);
    expect(pids.length).toBeGreaterThanOrEqual(1);
    expect(ids).toHaveLength(1);
    const { rows } = await pgObserver.query<{ ok: boolean }>(
      // With a timeout, pg_terminate_backend waits until the backend has exited (its FATAL sent).
      'SELECT pg_terminate_backend(pid, 5000) AS ok FROM pg_stat_activity WHERE application_name = $1',
      [c.appName],
    );
    expect(rows.every((r) => r.ok)).toBe(true);
    for (const id of ids) expect(await redisObserver.client('KILL', 'ID', id)).toBe(1);
    return { pids, ids };
  }

  /** Leaves the pool with exactly one idle connection, as sequential invocations do. */
  async function onePooledConnection() {
    await expectHealthy(c, await getHealth(c.health));
    const pool = c.getPoolIfCreated()!;
    expect(pool.totalCount).toBe(1);
    expect(pool.idleCount).toBe(1);
    expect(await pgPids(c.appName)).toHaveLength(1);
  }

  it('answers 200 on the very next invocation when the kill was seen while idle (pool evicted, Redis reconnecting)', async () => {
    await expectHealthy(c, await getHealth(c.health));
    await expectHealthy(c, await getHealth(c.health));
    const before = await killEverything();
    // The kill reached the container while it was idle: pg-pool evicted the client (its 'error').
    expect(idleErrors.length).toBeGreaterThanOrEqual(1);

    const res = await getHealth(c.health); // immediately: ioredis may still be reconnecting
    await expectHealthy(c, res);
    expect(res.body.invocation).toMatchObject({ coldStart: false, invocation: 3 });

    const pidsAfter = await pgPids(c.appName);
    const idsAfter = await redisIds(c.appName);
    expect(pidsAfter.length).toBeGreaterThanOrEqual(1);
    expect(pidsAfter.length).toBeLessThanOrEqual(c.getConfig().db.poolMax);
    expect(pidsAfter.some((p) => before.pids.includes(p))).toBe(false);
    expect(idsAfter).toHaveLength(1); // replaced, not duplicated
    expect(idsAfter[0]).not.toBe(before.ids[0]);
    expect(res.elapsedMs).toBeLessThan(3_000);
    console.info(
      `thaw/kill, seen while idle: ${res.status} in ${res.elapsedMs} ms (db ${res.body.checks.database.latencyMs} ms, redis ${res.body.checks.redis.latencyMs} ms)`,
    );
  });

  it('answers 200 when the kill happened a while before the invocation (reconnected while idle)', async () => {
    const before = await killEverything();
    // The idle pg clients see the termination and are evicted (pool 'error' listener), ioredis reconnects.
    const deadline = Date.now() + 5_000;
    while ((await pgPids(c.appName)).some((p) => before.pids.includes(p)) && Date.now() < deadline) await sleep(20);
    await sleep(300);

    const res = await getHealth(c.health);
    await expectHealthy(c, res);
    expect(res.elapsedMs).toBeLessThan(3_000);
    const idsAfter = await redisIds(c.appName);
    expect(idsAfter).toHaveLength(1);
    expect(idsAfter[0]).not.toBe(before.ids[0]);
    expect((await pgPids(c.appName)).length).toBeLessThanOrEqual(c.getConfig().db.poolMax);
    console.info(`thaw/kill, after a pause: ${res.status} in ${res.elapsedMs} ms`);
  });

  it('killed while frozen, a model read: lands on the dead connection, retried once on a fresh one, 200', async () => {
    await onePooledConnection();
    const before = killWhileFrozen(c.appName, { pg: true, redis: false });
    expect(before.pids).toHaveLength(1);

    const res = await getCanary(); // started before the event loop could read the FATAL
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: canaryId, queue: 'agenda' });
    // The pool never saw its client die while idle: the read itself found the connection dead.
    expect(idleErrors).toEqual([]);
    expect(res.elapsedMs).toBeLessThan(2_000); // the server said so at once: no timeout involved
    const pidsAfter = await pgPids(c.appName);
    expect(pidsAfter).toHaveLength(1);
    expect(pidsAfter).not.toContain(before.pids[0]);
    console.info(`thaw/kill while frozen, model read: ${res.status} in ${res.elapsedMs} ms`);
  });

  it('killed while frozen, a raw query (GET /health): not retried, a clear 503 at once, then 200', async () => {
    await onePooledConnection();
    killWhileFrozen(c.appName, { pg: true, redis: false });

    const res = await getHealth(c.health);
    expect(res.status).toBe(503);
    expect(res.body.down).toEqual(['database']);
    expect(res.body.checks.database).toMatchObject({ status: 'down', error: 'Database connection lost' });
    expect(idleErrors).toEqual([]); // the query found the dead connection, not the pool
    expect(res.elapsedMs).toBeLessThan(2_000);

    const next = await getHealth(c.health);
    await expectHealthy(c, next);
    console.info(`thaw/kill while frozen, /health (raw): ${res.status} in ${res.elapsedMs} ms; next ${next.status} in ${next.elapsedMs} ms`);
  });

  it('Redis client killed while frozen: the next invocation still answers 200 on a replaced client', async () => {
    await onePooledConnection();
    const before = killWhileFrozen(c.appName, { pg: false, redis: true });
    expect(before.ids).toHaveLength(1);

    const res = await getHealth(c.health);
    await expectHealthy(c, res);
    expect(res.elapsedMs).toBeLessThan(3_000);
    const idsAfter = await redisIds(c.appName);
    expect(idsAfter).toHaveLength(1);
    expect(idsAfter[0]).not.toBe(before.ids[0]);
    console.info(`thaw/Redis killed while frozen: ${res.status} in ${res.elapsedMs} ms (redis ${res.body.checks.redis.latencyMs} ms)`);
  });
});

describe('thaw after the network silently dropped the PostgreSQL sockets (blackhole)', () => {
  // Short timeouts so the test is quick: statement_timeout 1 s, so pg's client-side query_timeout
  // (statement_timeout + 2 s, lib/platform/db/pool.ts) is 3 s: a query on a dead socket fails after 3 s.
  const STATEMENT_TIMEOUT_MS = 1_000;
  const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 2_000;
  let proxy: TcpProxy;
  let c: Container;
  let canaryId: string;

  beforeAll(async () => {
    const target = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    process.env.DATABASE_URL = proxy.urlFor(TEST_DATABASE_URL);
    process.env.DB_STATEMENT_TIMEOUT_MS = String(STATEMENT_TIMEOUT_MS);
    process.env.DB_CONNECT_TIMEOUT_MS = '1000';
    // These cases watch the database's own bounds; keep /health's per-check bound out of the way.
    process.env.HEALTH_CHECK_TIMEOUT_MS = '10000';
    await suite.reload();
    c = container();
    expect(c.getConfig().db.url).toContain(`:${proxy.port}/`);
    // A row for a model read to find (GET /admin/canaries/{id} is a findUnique).
    canaryId = (await (await c.getDb()).canaryRun.create({ data: { queue: 'agenda', workMs: 0 } })).id;
  });

  afterAll(async () => {
    await proxy?.up();
    if (canaryId) await pgObserver.query('DELETE FROM canary_runs WHERE id = $1', [canaryId]);
    await c?.closeAll(); // while its connections still have the proxy to go through
    await proxy?.close();
  });

  /** Makes the pool hold exactly `n` open, idle connections, as a burst of parallel queries leaves it. */
  async function warmPool(n: number) {
    const db = await c.getDb();
    await Promise.all(Array.from({ length: n }, () => db.$queryRaw`SELECT 1 AS ok FROM pg_sleep(0.05)`));
    expect(c.getPoolIfCreated()!.totalCount).toBe(n);
    expect(c.getPoolIfCreated()!.idleCount).toBe(n);
  }

  /** The container freezes, NAT forgets its sockets, it thaws: old sockets dead, new ones fine. */
  async function freezeAndThaw() {
    proxy.blackhole();
    await proxy.up();
  }

  const getCanary = () =>
    get(c.canaryGet, `/admin/canaries/${canaryId}`, {
      routeKey: 'GET /admin/canaries/{id}',
      pathParameters: { id: canaryId },
      headers: { authorization: `Bearer ${ADMIN_SECRET}` },
    });

  it('one dead pooled socket, a model read: retried once on a fresh connection, 200 after one query timeout', async () => {
    expect((await getCanary()).status).toBe(200);
    await warmPool(1);
    const pidsBefore = await pgPids(c.appName);
    expect(pidsBefore).toHaveLength(1);
    await freezeAndThaw();

    const res = await getCanary();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: canaryId, queue: 'agenda' });
    // The first attempt waited for pg's query_timeout; the retry ran on a new connection.
    expect(res.elapsedMs).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 100);
    expect(res.elapsedMs).toBeLessThan(QUERY_TIMEOUT_MS + 1_500);
    const pidsAfter = await pgPids(c.appName);
    expect(pidsAfter.some((p) => !pidsBefore.includes(p))).toBe(true);

    const next = await getCanary();
    expect(next.status).toBe(200);
    expect(next.elapsedMs).toBeLessThan(1_000);
    console.info(`thaw/blackhole, 1 dead socket, model read: ${res.status} after ${res.elapsedMs} ms; next ${next.elapsedMs} ms`);
  });

  it('one dead pooled socket, a raw query (GET /health): not retried, a clear 503 after one query timeout, then 200', async () => {
    await warmPool(1);
    await freezeAndThaw();

    // lib/platform/db/client.ts retries model reads only: raw SQL may write, so $queryRaw is never re-run.
    const res = await getHealth(c.health);
    expect(res.status).toBe(503);
    expect(res.body.down).toEqual(['database']);
    expect(res.body.checks.database).toMatchObject({ status: 'down', error: 'Database connection lost' });
    expect(res.body.checks.redis.status).toBe('up');
    expect(res.elapsedMs).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 100);
    expect(res.elapsedMs).toBeLessThan(QUERY_TIMEOUT_MS + 1_500);

    const next = await getHealth(c.health);
    await expectHealthy(c, next);
    expect(next.elapsedMs).toBeLessThan(1_000);
    console.info(`thaw/blackhole, 1 dead socket, /health (raw): ${res.status} after ${res.elapsedMs} ms; next ${next.status} in ${next.elapsedMs} ms`);
  });

  it('every pooled socket dead, a model read: the lost connection evicts its idle siblings, the retry succeeds', async () => {
    await warmPool(2);
    await freezeAndThaw();

    const res = await getCanary();
    expect(res.status).toBe(200);
    // One query timeout on the first dead socket; the other dead one was evicted, not tried.
    expect(res.elapsedMs).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 100);
    expect(res.elapsedMs).toBeLessThan(QUERY_TIMEOUT_MS + 1_500);

    const next = await getCanary();
    expect(next.status).toBe(200);
    expect(next.elapsedMs).toBeLessThan(1_000);
    await expectHealthy(c, await getHealth(c.health));
    console.info(`thaw/blackhole, 2 dead sockets, model read: ${res.status} after ${res.elapsedMs} ms; next ${next.status} in ${next.elapsedMs} ms`);
  });
});
