/**
 * The pool is a hard, small budget (containers x pool max must fit PostgreSQL's connections), so
 * what happens when it is full matters: a request waits at most DB_CONNECT_TIMEOUT_MS, then gets a
 * typed "database busy" 503 instead of hanging towards API Gateway's 29 s; once connections free
 * up, queries succeed again. And statement_timeout really reaches the server.
 */
import { getHealth } from '../support/invoke';
import { useSuite } from '../support/suite';
import { until } from '../support/until';

const POOL_MAX = 2;
const CONNECT_TIMEOUT_MS = 500;
const STATEMENT_TIMEOUT_MS = 3_000;
const HOLD_S = 2;

const { client, errors, health, config } = useSuite({
  // Before the first load: config is read once per module registry.
  env: {
    AGENDA_PROFILE: 'api',
    DB_POOL_MAX: String(POOL_MAX),
    DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  },
  modules: {
    client: () => import('../../lib/platform/db/client'),
    errors: () => import('../../lib/platform/errors/app-error'),
    health: () => import('../../functions/http/health'),
    config: () => import('../../lib/platform/config'),
  },
}).m;

describe('pool exhausted and statement timeout', () => {
  beforeAll(() => {
    expect(config.getConfig().db).toMatchObject({
      poolMax: POOL_MAX,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    });
  });

  /** Occupies every pooled connection for HOLD_S seconds; resolves when they are all checked out. */
  async function holdEveryConnection() {
    const db = await client.getDb();
    const started = Date.now();
    // Prisma queries are lazy (they run when awaited): Promise.all starts them now.
    const holds = Promise.all(
      Array.from({ length: POOL_MAX }, () => db.$queryRaw<{ ok: number }[]>`SELECT 1 AS ok FROM pg_sleep(${HOLD_S})`),
    );
    const pool = client.getPoolIfCreated()!;
    await until(
      'the pool filled',
      () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      (c) => c.total === POOL_MAX && c.idle === 0 && c.waiting === 0,
      { timeoutMs: 1_000, everyMs: 5 },
    );
    return { holds, started };
  }

  it('fails a query with a typed "database busy" error after the connect timeout, then recovers', async () => {
    const db = await client.getDb();
    const { holds, started: holdStarted } = await holdEveryConnection();

    const started = Date.now();
    const error = await db.$queryRaw`SELECT 1 AS ok`.then(
      () => undefined,
      (err: unknown) => err,
    );
    const elapsed = Date.now() - started;

    expect(error).toBeInstanceOf(errors.DependencyUnavailableError);
    expect(error).toMatchObject({ code: 'dependency_unavailable', dependency: 'database' });
    expect((error as Error).message).toMatch(/Database busy: no connection became free within 500 ms \(pool max 2\)/);
    expect(String(((error as Error).cause as Error | undefined)?.message)).toMatch(/timeout exceeded when trying to connect/);
    // It waited the connect timeout, and not much longer: no hang, and no retry of a busy pool.
    expect(elapsed).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(CONNECT_TIMEOUT_MS + 700);
    expect(Date.now() - holdStarted).toBeLessThan(HOLD_S * 1_000); // the holds were still running

    // Once the slow queries finish, the same container serves queries again.
    expect(await holds).toEqual([[{ ok: 1 }], [{ ok: 1 }]]);
    expect(await db.$queryRaw`SELECT 1 AS ok`).toEqual([{ ok: 1 }]);
    expect(client.getPoolIfCreated()!.totalCount).toBeLessThanOrEqual(POOL_MAX);
    console.info(`pool-exhausted: busy error after ${elapsed} ms (connect timeout ${CONNECT_TIMEOUT_MS} ms)`);
  });

  it('maps a busy pool to a 503 with a clear body through the HTTP handler', async () => {
    expect((await getHealth(health.handler)).status).toBe(200);
    const { holds } = await holdEveryConnection();

    const res = await getHealth(health.handler);
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
    expect(res.body.down).toEqual(['database']);
    expect(res.body.checks.database).toMatchObject({
      status: 'down',
      error: 'Database busy: no connection became free within 500 ms (pool max 2)',
    });
    expect(res.body.checks.database.latencyMs).toBeLessThan(CONNECT_TIMEOUT_MS + 700);
    expect(res.elapsedMs).toBeLessThan(CONNECT_TIMEOUT_MS + 1_500);

    await holds;
    const after = await getHealth(health.handler);
    expect(after.status).toBe(200);
    expect(after.body.checks.database.pool).toMatchObject({ max: POOL_MAX, waiting: 0 });
  });

  it('applies statement_timeout on the server: a longer pg_sleep fails with a clear error', async () => {
    const db = await client.getDb();
    const { rows } = await client.getPoolIfCreated()!.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(rows[0]!.statement_timeout).toBe('3s');

    const started = Date.now();
    const error = await db.$queryRaw`SELECT 1 AS ok FROM pg_sleep(${(STATEMENT_TIMEOUT_MS + 3_000) / 1_000})`.then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    const elapsed = Date.now() - started;

    expect(error).toBeDefined();
    // PostgreSQL's own cancellation (SQLSTATE 57014), not pg's client-side query_timeout (statement
    // + 2 s), surfaced as a typed timeout (504) that names the bound.
    expect(error).toBeInstanceOf(errors.TimeoutError);
    expect(error!.message).toBe(`Database query exceeded the ${STATEMENT_TIMEOUT_MS} ms statement timeout`);
    expect(String((error!.cause as Error).message)).toMatch(/canceling statement due to statement timeout/);
    expect(elapsed).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(STATEMENT_TIMEOUT_MS + 1_500);
    // The connection survived (or was replaced): the next query works.
    expect(await db.$queryRaw`SELECT 1 AS ok`).toEqual([{ ok: 1 }]);
    console.info(`statement-timeout: failed after ${elapsed} ms with: ${error!.message.split('\n').filter(Boolean).pop()}`);
  });
});
