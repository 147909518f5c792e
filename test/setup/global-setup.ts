import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../lib/platform/db/migrator';

const BASE_URL = process.env.TEST_DATABASE_BASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agenda_test';
const PREFIX = 'agenda_test_run_';
const STALE_AFTER_MS = 3 * 3600_000;

async function withAdmin<T>(fn: (admin: Client) => Promise<T>): Promise<T> {
  const url = new URL(BASE_URL);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString(), application_name: 'agenda-test-setup' });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/**
 * A fresh database for this run, migrated from scratch and dropped by global-teardown.ts: no state
 * from an earlier run (or a migration edited since) leaks in, and two runs on one machine never
 * share one. Databases of runs that died more than a few hours ago are dropped here.
 */
export default async function globalSetup(): Promise<void> {
  const stamp = Date.now();
  const name = `${PREFIX}${stamp.toString(36)}_${process.pid}`;
  await withAdmin(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${PREFIX}%`]);
    for (const { datname } of rows) {
      const born = parseInt(datname.slice(PREFIX.length).split('_')[0] ?? '', 36);
      if (Number.isFinite(born) && stamp - born > STALE_AFTER_MS) {
        await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
      }
    }
  });
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  process.env.TEST_DATABASE_URL = url.toString();
  process.env.TEST_DATABASE_NAME = name;
  await migrate({
    databaseUrl: url.toString(),
    migrationsDir: path.join(__dirname, '..', '..', 'prisma', 'migrations'),
    createDatabase: true,
  });
}

export { withAdmin };
