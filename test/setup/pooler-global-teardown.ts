import { Client } from 'pg';
import globalTeardown from './global-teardown';

/**
 * Checks that the pass really went through PgBouncer (it served the run's database), stops it, then
 * drops the run's database (global-teardown.ts).
 */
export default async function poolerGlobalTeardown(): Promise<void> {
  const bouncer = globalThis.agendaTestPgBouncer;
  globalThis.agendaTestPgBouncer = undefined;
  try {
    if (bouncer) {
      const database = process.env.TEST_DATABASE_NAME;
      const served = await transactionsServed(bouncer.urlFor(process.env.TEST_DIRECT_DATABASE_URL!), database!);
      console.info(`pooler pass: PgBouncer served ${served} transactions on ${database}`);
      if (served === 0) throw new Error('The pooler pass sent no transaction through PgBouncer: the suites did not use it');
    }
  } finally {
    await bouncer?.stop();
    await globalTeardown();
  }
}

/** `total_xact_count` from PgBouncer's admin console (SHOW STATS) for `database`. */
async function transactionsServed(pooledUrl: string, database: string): Promise<number> {
  const url = new URL(pooledUrl);
  url.pathname = '/pgbouncer';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rows } = await admin.query('SHOW STATS');
    const row = (rows as Record<string, string>[]).find((r) => r.database === database);
    return Number(row?.total_xact_count ?? 0);
  } finally {
    await admin.end();
  }
}
