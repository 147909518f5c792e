import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../lib/db/migrator';
import { TEST_DATABASE_URL } from './test-env';

/**
 * A fresh test database per run, migrated from scratch: no state from an earlier run (or from a
 * migration edited since it was applied) can leak into this one.
 */
export default async function globalSetup(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString(), application_name: 'agenda-test-setup' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await migrate({
    databaseUrl: TEST_DATABASE_URL,
    migrationsDir: path.join(__dirname, '..', '..', 'prisma', 'migrations'),
    createDatabase: true,
  });
}
