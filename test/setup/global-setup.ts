import path from 'node:path';
import { migrate } from '../../lib/db/migrator';
import { TEST_DATABASE_URL } from './test-env';

/** Creates and migrates the test database once per run. */
export default async function globalSetup(): Promise<void> {
  await migrate({
    databaseUrl: TEST_DATABASE_URL,
    migrationsDir: path.join(__dirname, '..', '..', 'prisma', 'migrations'),
    createDatabase: true,
  });
}
