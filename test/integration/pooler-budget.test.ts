/**
 * The connection budget with a transaction pooler: 200 concurrent clients of the product (10
 * simulated containers, each its own module registry with its own pool of 20, all running
 * transactions through inTransaction) hold no more PostgreSQL connections than PgBouncer's pool
 * size, counted on the server (pg_stat_activity) and on PgBouncer (SHOW POOLS) while they run.
 * Without the pooler the same load would need 200 server connections (max_connections here: 100).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';

const POOL_SIZE = 5;
const CONTAINERS = 10;
const POOL_MAX = 20;
const ROUNDS = 3;

type Container = {
  inTransaction: typeof import('../../lib/platform/db/transaction').inTransaction;
  getDb: typeof import('../../lib/platform/db/client').getDb;
  getPoolIfCreated: typeof import('../../lib/platform/db/client').getPoolIfCreated;
  closeDb: typeof import('../../lib/platform/db/client').closeDb;
};

const service = `agenda-budget-${randomUUID().slice(0, 8)}`;
const saved = { ...process.env };
let bouncer: PgBouncer;
let observer: Client;
let admin: Client;
const containers: Container[] = [];

beforeAll(async () => {
  bouncer = await startPgBouncer({ poolSize: POOL_SIZE, maxClientConn: CONTAINERS * POOL_MAX + 50 });
  observer = new Client({ connectionString: TEST_DIRECT_DATABASE_URL, application_name: 'agenda-test-budget-observer' });
  await observer.connect();
  const adminUrl = new URL(bouncer.urlFor(TEST_DIRECT_DATABASE_URL));
  adminUrl.pathname = '/pgbouncer';
  admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  Object.assign(process.env, {
    AGENDA_PROFILE: 'api',
    SERVICE_NAME: service,
    DATABASE_URL: bouncer.urlFor(TEST_DIRECT_DATABASE_URL),
    DB_POOLER: 'transaction',
    DIRECT_DATABASE_URL: TEST_DIRECT_DATABASE_URL,
    DB_POOL_MAX: String(POOL_MAX),
    // 600 transactions queue for 5 server connections at PgBouncer, and that wait counts towards the
    // bound on starting a transaction (the connect timeout, 2 s for the api profile): this test is
    // about the server's budget, not latency.
    DB_CONNECT_TIMEOUT_MS: '30000',
  });
  for (let i = 0; i < CONTAINERS; i++) {
    jest.resetModules();
    const client = await import('../../lib/platform/db/client');
    const c: Container = {
      inTransaction: (await import('../../lib/platform/db/transaction')).inTransaction,
      getDb: client.getDb,
      getPoolIfCreated: client.getPoolIfCreated,
      closeDb: client.closeDb,
    };
    await c.getDb();
    containers.push(c);
  }
});

afterAll(async () => {
  await Promise.all(containers.map((c) => c.closeDb()));
  await admin?.end();
  await observer?.end();
  await bouncer?.stop();
  process.env = saved;
});

interface Sample {
  clients: number;
  server: number;
  pooler: number;
  waiting: number;
}

async function sample(database: string): Promise<Sample> {
  const [{ rows }, pools] = await Promise.all([
    observer.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND application_name LIKE $2`,
      [database, `${service}-%`],
    ),
    admin.query('SHOW POOLS'),
  ]);
  const pool = (pools.rows as Record<string, string>[]).find((r) => r.database === database) ?? {};
  const n = (k: string) => Number(pool[k] ?? 0);
  return {
    clients: containers.reduce((sum, c) => sum + (c.getPoolIfCreated()?.totalCount ?? 0), 0),
    server: rows[0]!.n,
    pooler: n('sv_active') + n('sv_idle') + n('sv_used') + n('sv_tested') + n('sv_login'),
    waiting: n('cl_waiting'),
  };
}

it(`200 concurrent clients through the product hold at most the pooler's ${POOL_SIZE} server connections`, async () => {
  const database = new URL(TEST_DIRECT_DATABASE_URL).pathname.slice(1);
  const samples: Sample[] = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      samples.push(await sample(database));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();

  let transactions = 0;
  try {
    await Promise.all(
      containers.flatMap((c) =>
        Array.from({ length: POOL_MAX }, async () => {
          for (let round = 0; round < ROUNDS; round++) {
            await c.inTransaction(async (tx) => {
              await tx.clinic.findFirst({ select: { id: true } });
              await tx.$queryRaw`SELECT 1 AS held FROM pg_sleep(0.02)`;
            });
            transactions += 1;
          }
        }),
      ),
    );
  } finally {
    running = false;
    await sampler;
  }

  expect(transactions).toBe(CONTAINERS * POOL_MAX * ROUNDS);
  const peak = (k: keyof Sample) => Math.max(...samples.map((s) => s[k]));
  console.info(
    `pooler budget: ${samples.length} samples; peak clients ${peak('clients')}, waiting at PgBouncer ${peak('waiting')}, ` +
      `server connections ${peak('server')} (pg_stat_activity) / ${peak('pooler')} (SHOW POOLS)`,
  );
  // The load was real: 200 client connections open, most of them queued at PgBouncer...
  expect(peak('clients')).toBe(CONTAINERS * POOL_MAX);
  expect(peak('waiting')).toBeGreaterThan(100);
  // ...and PostgreSQL saw the pool size, no more (and used all of it).
  expect(samples.length).toBeGreaterThan(10);
  expect(peak('server')).toBe(POOL_SIZE);
  expect(peak('pooler')).toBe(POOL_SIZE);
});
