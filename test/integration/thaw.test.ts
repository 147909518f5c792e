/**
 * Thaw: a warm container's connections die between two invocations (server-side kill, or the
 * network silently dropping the sockets while the container was frozen). The next invocation must
 * still answer, with the connections replaced, and nothing may escape as an uncaught exception or
 * unhandled rejection (an idle pg client's error or an ioredis error without a listener would).
 */
import IORedis from 'ioredis';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../setup/test-env';
import { get, type InvokeResult } from '../support/invoke';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

type Container = {
  health: typeof import('../../functions/http/health').handler;
  canaryGet: typeof import('../../functions/http/admin-canaries').get;
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
  getConfig: typeof import('../../lib/config').getConfig;
  appName: string;
  getDb: typeof import('../../lib/db/client').getDb;
  getPoolIfCreated: typeof import('../../lib/db/client').getPoolIfCreated;
};

/** Loads a fresh module registry (a new simulated Lambda container) under the current env. */
async function loadContainer(): Promise<Container> {
  jest.resetModules();
  const { getConfig } = await import('../../lib/config');
  const { applicationName } = await import('../../lib/db/pool');
  const { getDb, getPoolIfCreated } = await import('../../lib/db/client');
  return {
    health: (await import('../../functions/http/health')).handler,
    canaryGet: (await import('../../functions/http/admin-canaries')).get,
    closeAll: (await import('../../lib/lifecycle/close-all')).closeAll,
    getConfig,
    appName: applicationName(getConfig()),
    getDb,
    getPoolIfCreated,
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

const ADMIN_SECRET = 'thaw-test-admin-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pgObserver: Client;
let redisObserver: IORedis;
let errors: ReturnType<typeof watchProcessErrors>;

beforeAll(async () => {
  process.env.AGENDA_PROFILE = 'api';
  process.env.ADMIN_SECRET = ADMIN_SECRET;
  errors = watchProcessErrors();
  pgObserver = new Client({ connectionString: TEST_DATABASE_URL, application_name: 'agenda-test-observer' });
  await pgObserver.connect();
  redisObserver = new IORedis(process.env.REDIS_URL!, { connectionName: 'agenda-test-observer', lazyConnect: true });
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

function expectHealthy(res: InvokeResult) {
  if (res.status !== 200) console.error(JSON.stringify(res.body, null, 1));
  expect(res.status).toBe(200);
  expect(res.body.checks.database).toMatchObject({ status: 'up' });
  expect(res.body.checks.redis).toMatchObject({ status: 'up' });
  expect(res.body.checks.queues).toMatchObject({ status: 'up' });
  expect(res.body.down).toEqual([]);
}

describe('thaw after the servers killed the container connections', () => {
  let c: Container;

  beforeAll(async () => {
    process.env.DATABASE_URL = TEST_DATABASE_URL;
    delete process.env.DB_STATEMENT_TIMEOUT_MS;
    c = await loadContainer();
  });
  afterAll(() => c?.closeAll());

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

  it('answers 200 on the very next invocation (no pause after the kill)', async () => {
    expectHealthy(await get(c.health, '/health'));
    expectHealthy(await get(c.health, '/health'));
    const before = await killEverything();

    const res = await get(c.health, '/health'); // immediately: the container has not noticed yet
    expectHealthy(res);
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
      `thaw/kill, immediate: ${res.status} in ${res.elapsedMs} ms (db ${res.body.checks.database.latencyMs} ms, redis ${res.body.checks.redis.latencyMs} ms)`,
    );
  });

  it('answers 200 when the kill happened a while before the invocation (container noticed while idle)', async () => {
    const before = await killEverything();
    // The idle pg clients see the termination and are evicted (pool 'error' listener), ioredis reconnects.
    const deadline = Date.now() + 5_000;
    while ((await pgPids(c.appName)).some((p) => before.pids.includes(p)) && Date.now() < deadline) await sleep(20);
    await sleep(300);

    const res = await get(c.health, '/health');
    expectHealthy(res);
    expect(res.elapsedMs).toBeLessThan(3_000);
    const idsAfter = await redisIds(c.appName);
    expect(idsAfter).toHaveLength(1);
    expect(idsAfter[0]).not.toBe(before.ids[0]);
    expect((await pgPids(c.appName)).length).toBeLessThanOrEqual(c.getConfig().db.poolMax);
    console.info(`thaw/kill, after a pause: ${res.status} in ${res.elapsedMs} ms`);
  });
});

describe('thaw after the network silently dropped the PostgreSQL sockets (blackhole)', () => {
  // Short timeouts so the test is quick: statement_timeout 1 s, so pg's client-side query_timeout
  // (statement_timeout + 2 s, lib/db/pool.ts) is 3 s: a query on a dead socket fails after 3 s.
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
    c = await loadContainer();
    expect(c.getConfig().db.url).toContain(`:${proxy.port}/`);
    // A row for a model read to find (GET /admin/canaries/{id} is a findUnique).
    canaryId = (await (await c.getDb()).canaryRun.create({ data: { queue: 'agenda', workMs: 0 } })).id;
  });

  afterAll(async () => {
    await proxy?.up();
    if (canaryId) await pgObserver.query('DELETE FROM canary_runs WHERE id = $1', [canaryId]);
    await c?.closeAll();
    await proxy?.close();
    process.env.DATABASE_URL = TEST_DATABASE_URL;
    delete process.env.DB_STATEMENT_TIMEOUT_MS;
    delete process.env.DB_CONNECT_TIMEOUT_MS;
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

    // lib/db/client.ts retries model reads only: raw SQL may write, so $queryRaw is never re-run.
    const res = await get(c.health, '/health');
    expect(res.status).toBe(503);
    expect(res.body.down).toEqual(['database']);
    expect(res.body.checks.database).toMatchObject({ status: 'down', error: 'Database connection lost' });
    expect(res.body.checks.redis.status).toBe('up');
    expect(res.elapsedMs).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 100);
    expect(res.elapsedMs).toBeLessThan(QUERY_TIMEOUT_MS + 1_500);

    const next = await get(c.health, '/health');
    expectHealthy(next);
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
    expectHealthy(await get(c.health, '/health'));
    console.info(`thaw/blackhole, 2 dead sockets, model read: ${res.status} after ${res.elapsedMs} ms; next ${next.status} in ${next.elapsedMs} ms`);
  });
});
