import path from 'node:path';
import { getConfig } from '../lib/platform/config';
import { migrate } from '../lib/platform/db/migrator';
import { loadSecrets } from '../lib/platform/secrets/load-secrets';

/**
 * `npm run db:migrate`: applies pending SQL migrations, creating the database if needed, through
 * DIRECT_DATABASE_URL when set (migrations need a session; DATABASE_URL may be a transaction pooler).
 */
async function main() {
  await loadSecrets(); // DIRECT_DATABASE_URL may be an aws-sm: reference
  const result = await migrate({
    databaseUrl: getConfig().db.sessionUrl,
    migrationsDir: path.join(__dirname, '..', 'prisma', 'migrations'),
    createDatabase: true,
    log: (line) => console.log(`db:migrate ${line}`),
  });
  for (const name of result.modified) console.warn(`db:migrate WARNING: ${name} changed after it was applied`);
  console.log(`db:migrate ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
}

main().catch((err: Error) => {
  console.error(`db:migrate failed: ${err.message}`);
  process.exit(1);
});
