/**
 * The product behind a real PgBouncer in transaction mode with stock settings (it refuses startup
 * parameters such as statement_timeout): the pool connects with DB_POOLER=transaction, the
 * timeouts still apply (set inside each transaction), the start-up check reports a role without a
 * statement_timeout, and the connect test keeps its 5 attempts with PostgreSQL unreachable behind
 * the pooler.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { freePort } from '../support/processes';

type Container = {
  getDb: typeof import('../../lib/platform/db/client').getDb;
  getPoolerStatus: typeof import('../../lib/platform/db/client').getPoolerStatus;
  getPoolIfCreated: typeof import('../../lib/platform/db/client').getPoolIfCreated;
  inTransaction: typeof import('../../lib/platform/db/transaction').inTransaction;
  closeDb: typeof import('../../lib/platform/db/client').closeDb;
  logger: typeof import('../../lib/platform/observability/logger').logger;
  errors: typeof import('../../lib/platform/errors/app-error');
};

const SETTINGS = ['DATABASE_URL', 'DB_POOLER', 'DIRECT_DATABASE_URL', 'DB_STATEMENT_TIMEOUT_MS', 'DB_IDLE_IN_TX_TIMEOUT_MS', 'DB_CONNECT_TIMEOUT_MS', 'DB_STARTUP_BASE_DELAY_MS', 'DB_STARTUP_ATTEMPTS', 'AGENDA_PROFILE'];
const saved = Object.fromEntries(SETTINGS.map((k) => [k, process.env[k]]));
const containers: Container[] = [];

/** A fresh module registry (a new Lambda container) reading `env` on top of the file's environment. */
async function loadContainer(env: Record<string, string | undefined>): Promise<Container> {
  setEnv({ ...saved, DB_POOLER: undefined, DIRECT_DATABASE_URL: undefined, ...env });
  jest.resetModules();
  const client = await import('../../lib/platform/db/client');
  const c: Container = {
    getDb: client.getDb,
    getPoolerStatus: client.getPoolerStatus,
    getPoolIfCreated: client.getPoolIfCreated,
    closeDb: client.closeDb,
    inTransaction: (await import('../../lib/platform/db/transaction')).inTransaction,
    logger: (await import('../../lib/platform/observability/logger')).logger,
    errors: await import('../../lib/platform/errors/app-error'),
  };
  containers.push(c);
  return c;
}

let bouncer: PgBouncer;
let observer: Client;
const scratchDatabases: string[] = [];

function urlFor(database: string, base = TEST_DIRECT_DATABASE_URL): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

beforeAll(async () => {
  bouncer = await startPgBouncer({ poolSize: 3 });
  observer = new Client({ connectionString: TEST_DIRECT_DATABASE_URL, application_name: 'agenda-test-pooler-observer' });
  await observer.connect();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(containers.splice(0).map((c) => c.closeDb().catch(() => undefined)));
});

afterAll(async () => {
  for (const name of scratchDatabases) await observer.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await observer?.end();
  await bouncer?.stop();
  setEnv(saved);
});

function setEnv(env: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

const pooled = (extra: Record<string, string | undefined> = {}) =>
  loadContainer({ DATABASE_URL: bouncer.urlFor(TEST_DIRECT_DATABASE_URL), DB_POOLER: 'transaction', DIRECT_DATABASE_URL: TEST_DIRECT_DATABASE_URL, ...extra });

describe('connecting through PgBouncer (transaction mode, stock settings)', () => {
  it('refuses the direct pool at once (it sends the timeouts at connect), with a message naming DB_POOLER', async () => {
    const c = await loadContainer({ DATABASE_URL: bouncer.urlFor(TEST_DIRECT_DATABASE_URL), DB_STARTUP_BASE_DELAY_MS: '500' });
    const started = Date.now();
    const err = await c.getDb().then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(c.errors.DependencyUnavailableError);
    expect(err!.message).toMatch(/goes through a transaction pooler \(set DB_POOLER=transaction\)$/);
    expect(String((err!.cause as Error).message)).toMatch(/unsupported startup parameter: statement_timeout/);
    // Not retried: a refused parameter is refused every time (five attempts would take 7.5 s here).
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('with DB_POOLER=transaction: getDb(), model reads, raw queries and a transaction work', async () => {
    const c = await pooled();
    const db = await c.getDb();
    expect(await db.$queryRaw<{ one: number }[]>`SELECT 1::int AS one`).toEqual([{ one: 1 }]);
    expect(await db.clinic.count()).toEqual(expect.any(Number));
    const name = `pooler-${randomUUID()}`;
    const id = await c.inTransaction(async (tx) => {
      const clinic = await tx.clinic.create({ data: { name } });
      return clinic.id;
    });
    const { rows } = await observer.query('SELECT name FROM clinics WHERE id = $1', [id]);
    expect(rows).toEqual([{ name }]);
    await observer.query('DELETE FROM clinics WHERE id = $1', [id]);
  });
});

describe('timeouts through the pooler', () => {
  it('each transaction runs under the profile timeouts; the server connection goes back without them', async () => {
    const c = await pooled({ DB_STATEMENT_TIMEOUT_MS: '4321', DB_IDLE_IN_TX_TIMEOUT_MS: '5432' });
    const db = await c.getDb();
    const inside = await c.inTransaction((tx) =>
      tx.$queryRaw<{ st: string; idle: string }[]>`SELECT current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(inside).toEqual([{ st: '4321ms', idle: '5432ms' }]);
    // Outside a transaction: the server's own setting (none for this role), not the last transaction's.
    const outside = await db.$queryRaw<{ st: string }[]>`SELECT current_setting('statement_timeout') AS st`;
    expect(outside).toEqual([{ st: '0' }]);
  });

  it("a statement past the statement timeout inside inTransaction is cancelled by the server: the product's 504", async () => {
    const c = await pooled({ DB_STATEMENT_TIMEOUT_MS: '500' });
    await c.getDb();
    const started = Date.now();
    const err = await c
      .inTransaction((tx) => tx.$queryRaw`SELECT pg_sleep(5)`)
      .then(() => undefined, (e: Error) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(c.errors.TimeoutError);
    expect(err!.message).toBe('Database query exceeded the 500 ms statement timeout');
    expect(elapsed).toBeLessThan(2_000);
    // The server stopped it: PgBouncer's server connection is not left running pg_sleep.
    const { rows } = await observer.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(5)%' AND state = 'active' AND pid <> pg_backend_pid()`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('a transaction left idle past the idle-in-transaction timeout is ended by the server', async () => {
    const c = await pooled({ DB_STATEMENT_TIMEOUT_MS: '5000', DB_IDLE_IN_TX_TIMEOUT_MS: '300' });
    await c.getDb();
    const err = await c
      .inTransaction(async (tx) => {
        await tx.$queryRaw`SELECT 1`;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return tx.$queryRaw`SELECT 2`;
      })
      .then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(c.errors.DependencyUnavailableError);
    expect(err!.message).toBe('Database connection lost');
    // The pool recovers: the next transaction works on another connection.
    expect(await c.inTransaction((tx) => tx.$queryRaw<{ ok: number }[]>`SELECT 1::int AS ok`)).toEqual([{ ok: 1 }]);
  });
});

describe('start-up check of the role statement_timeout through the pooler', () => {
  it('reports an unset statement_timeout with the ALTER ROLE that fixes it, and warns', async () => {
    const c = await pooled({ DB_STATEMENT_TIMEOUT_MS: '10000' });
    const warn = jest.spyOn(c.logger, 'warn');
    expect(c.getPoolerStatus()).toEqual({ pooler: 'transaction', serverStatementTimeoutMs: null });
    await c.getDb();
    await waitFor(() => c.getPoolerStatus().serverStatementTimeoutMs !== null);
    const database = new URL(TEST_DIRECT_DATABASE_URL).pathname.slice(1);
    const fix = `ALTER ROLE "postgres" IN DATABASE "${database}" SET statement_timeout = '10s'`;
    expect(c.getPoolerStatus()).toEqual({ pooler: 'transaction', serverStatementTimeoutMs: 0, fix });
    expect(warn).toHaveBeenCalledWith('db.pooler.statement_timeout_unset', expect.objectContaining({ serverStatementTimeoutMs: 0, fix }));
  });

  it('reports the role setting once it is there, and does not warn', async () => {
    const database = `agenda_scratch_pooler_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    scratchDatabases.push(database);
    await observer.query(`CREATE DATABASE "${database}"`);
    // Exactly what docs/OPERATIONS.md tells operators to run (here for one scratch database only).
    await observer.query(`ALTER ROLE postgres IN DATABASE "${database}" SET statement_timeout = '7s'`);
    const c = await pooled({ DATABASE_URL: bouncer.urlFor(urlFor(database)), DIRECT_DATABASE_URL: urlFor(database), DB_STATEMENT_TIMEOUT_MS: '10000' });
    const warn = jest.spyOn(c.logger, 'warn');
    await c.getDb();
    await waitFor(() => c.getPoolerStatus().serverStatementTimeoutMs !== null);
    expect(c.getPoolerStatus()).toEqual({ pooler: 'transaction', serverStatementTimeoutMs: 7000 });
    expect(warn).not.toHaveBeenCalledWith('db.pooler.statement_timeout_unset', expect.anything());
    // And autocommit statements through the pooler are bounded by it.
    const db = await c.getDb();
    expect(await db.$queryRaw<{ st: string }[]>`SELECT current_setting('statement_timeout') AS st`).toEqual([{ st: '7s' }]);
  });

  it('a lazy pool (socket profile) checks once its first connection was used', async () => {
    const c = await pooled({ AGENDA_PROFILE: 'socket' });
    const db = await c.getDb();
    expect(c.getPoolIfCreated()!.totalCount).toBe(0);
    expect(c.getPoolerStatus().serverStatementTimeoutMs).toBeNull();
    await db.$queryRaw`SELECT 1`;
    await waitFor(() => c.getPoolerStatus().serverStatementTimeoutMs !== null);
    expect(c.getPoolerStatus()).toMatchObject({ pooler: 'transaction', serverStatementTimeoutMs: 0, fix: expect.stringMatching(/SET statement_timeout = '5s'$/) });
    expect(c.getPoolIfCreated()!.totalCount).toBe(1); // on the same connection, within pool max 1
  });

  it('a direct pool reports the timeout it sends at connect, with no check', async () => {
    const c = await loadContainer({ DB_STATEMENT_TIMEOUT_MS: '10000' });
    const info = jest.spyOn(c.logger, 'info');
    await c.getDb();
    expect(c.getPoolerStatus()).toEqual({ pooler: 'none', serverStatementTimeoutMs: 10000 });
    expect(info).not.toHaveBeenCalledWith('db.pooler.checked', expect.anything());
  });
});

describe('the start-up connection test through the pooler keeps its 5 attempts', () => {
  const fast = { DB_CONNECT_TIMEOUT_MS: '300', DB_STARTUP_BASE_DELAY_MS: '20', DB_STARTUP_ATTEMPTS: undefined };

  it('PostgreSQL unreachable behind PgBouncer: 5 logins at the pooler, then a 503', async () => {
    const deadPort = await freePort();
    const cut = await startPgBouncer({ poolSize: 2, target: { host: '127.0.0.1', port: deadPort } });
    try {
      const c = await pooled({ ...fast, DATABASE_URL: cut.urlFor(TEST_DIRECT_DATABASE_URL) });
      const started = Date.now();
      const err = await c.getDb().then(() => undefined, (e: Error) => e);
      const elapsed = Date.now() - started;
      expect(err).toBeInstanceOf(c.errors.DependencyUnavailableError);
      expect(err!.message).toBe('Database unreachable after 5 attempts');
      // PgBouncer holds each login while it cannot reach the server, so each attempt lasts the connect timeout.
      expect(elapsed).toBeGreaterThanOrEqual(5 * 300);
      expect(elapsed).toBeLessThan(5 * 300 + 20 + 40 + 80 + 160 + 1_500);
      await waitFor(() => (cut.output().match(/login attempt: db=/g) ?? []).length >= 5);
      expect((cut.output().match(/login attempt: db=/g) ?? []).length).toBe(5);
    } finally {
      await cut.stop();
    }
  });

  it('the pooler itself down: 5 refused attempts, then a 503 within the same bound as direct', async () => {
    const gone = await startPgBouncer({ poolSize: 2 });
    const url = gone.urlFor(TEST_DIRECT_DATABASE_URL);
    await gone.stop();
    const c = await pooled({ ...fast, DATABASE_URL: url });
    const warn = jest.spyOn(c.logger, 'warn');
    const started = Date.now();
    const err = await c.getDb().then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(c.errors.DependencyUnavailableError);
    expect(err!.message).toBe('Database unreachable after 5 attempts');
    const failures = warn.mock.calls.filter(([event]) => event === 'db.pool.connect_retry').map(([, data]) => (data as { error: string }).error);
    expect(failures).toEqual(Array(5).fill(expect.stringMatching(/ECONNREFUSED/)));
    expect(Date.now() - started).toBeLessThan(20 + 40 + 80 + 160 + 1_000);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
