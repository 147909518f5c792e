import path from 'node:path';
import { migrate } from '../lib/db/migrator';

/** `npm run db:migrate`: applies pending SQL migrations to DATABASE_URL, creating the database if needed. */
async function main() {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agenda';
  const result = await migrate({
    databaseUrl,
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
