import { applyPendingMigrations, shippedMigrationsDir } from '../lib/platform/db/deploy-migrations';

/**
 * `node migrate.js` in the worker image (scripts/build-worker.ts bundles it, migrations/ beside it):
 * applies pending migrations through DIRECT_DATABASE_URL (else DATABASE_URL) without tsx or the
 * source tree, e.g. as a one-off ECS task before a release. Exits 1 when a migration fails.
 */
async function main(): Promise<void> {
  const dir = shippedMigrationsDir();
  const result = await applyPendingMigrations(dir, (line) => console.log(`migrate ${line}`));
  for (const name of result.modified) console.warn(`migrate WARNING: ${name} changed after it was applied`);
  console.log(`migrate ${result.applied.length} applied, ${result.alreadyApplied} already applied (${dir})`);
}

main().catch((err: Error) => {
  console.error(`migrate failed: ${err.message}`);
  process.exit(1);
});
