import { Client } from 'pg';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import globalSetup from './global-setup';

/** Server connections PgBouncer may open to the run's database in the pass through it. */
const POOL_SIZE = 10;

declare global {
  // Shared with pooler-global-teardown.ts, which runs in the same process.
  var agendaTestPgBouncer: PgBouncer | undefined;
}

/**
 * The pass through a real PgBouncer in transaction mode (jest.pooler.config.ts): the run's fresh
 * database as global-setup.ts makes it (migrated directly), then PgBouncer in front of it. Test
 * files see the pooled URL as TEST_DATABASE_URL and the direct one as TEST_DIRECT_DATABASE_URL
 * (test-env.ts), and env.ts sets DB_POOLER=transaction for the product.
 */
export default async function poolerGlobalSetup(): Promise<void> {
  const started = Date.now();
  await globalSetup();
  const bouncer = await startPgBouncer({ poolSize: POOL_SIZE, maxClientConn: 1000 });
  globalThis.agendaTestPgBouncer = bouncer;
  const direct = process.env.TEST_DATABASE_URL!;
  const pooled = bouncer.urlFor(direct);
  await assertStockTransactionPooler(pooled);
  process.env.TEST_DIRECT_DATABASE_URL = direct;
  process.env.TEST_DATABASE_URL = pooled;
  process.env.TEST_DB_POOLER = 'transaction';
  console.info(`\npooler pass: PgBouncer (transaction mode, pool size ${POOL_SIZE}) on port ${bouncer.port}, ready in ${Date.now() - started} ms`);
}

/** The pass means something only if what stands in front refuses startup parameters, as stock PgBouncer does. */
async function assertStockTransactionPooler(url: string): Promise<void> {
  const probe = new Client({ connectionString: url, statement_timeout: 1000 });
  const refused = await probe.connect().then(
    () => probe.end().then(() => undefined),
    (err: Error) => err.message,
  );
  if (!refused?.includes('unsupported startup parameter')) {
    throw new Error(`The pooler pass needs stock PgBouncer in transaction mode; a startup parameter got: ${refused ?? 'accepted'}`);
  }
}
