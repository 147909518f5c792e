import path from 'node:path';
import { answerCustomResource, type CustomResourceEvent, type CustomResourceResponse } from '../aws/custom-resource';
import { getConfig, type Config } from '../config';
import { logger } from '../observability/logger';

/**
 * The migrations folder shipped beside the running bundle (the build copies prisma/migrations
 * there: `migrations/` next to the migrate function's index.mjs, and next to the worker image's
 * migrate.js); from source, the repository's own. Resolved against the bundle file itself, so it
 * holds wherever the zip or the image puts it.
 */
export function shippedMigrationsDir(): string {
  try {
    return path.dirname(require.resolve('./migrations/migration_lock.toml'));
  } catch {
    // An ES module bundle has no __dirname: there the folder must be beside it.
    if (typeof __dirname === 'undefined') throw new Error('No migrations/ folder beside the bundle');
    return path.resolve(__dirname, '..', '..', '..', 'prisma', 'migrations');
  }
}

/** Applies what is pending through the session URL (DIRECT_DATABASE_URL), without creating the database. */
export async function applyPendingMigrations(migrationsDir: string, log: (line: string) => void): Promise<{ applied: string[]; alreadyApplied: number; modified: string[] }> {
  const { migrate } = await import('./migrator'); // pg loads here, not when the function is imported
  const result = await migrate({ databaseUrl: getConfig().db.sessionUrl, migrationsDir, log });
  return { applied: result.applied, alreadyApplied: result.alreadyApplied.length, modified: result.modified };
}

/**
 * The `Custom::Migrations` resource: Create and Update apply the pending migrations, so CloudFormation
 * updates the functions and the worker that depend on it only once the schema is there; Delete keeps
 * the schema (removing a stack never drops data). A rollback arrives as an Update with the previous
 * properties, run by the previous code, whose migrations are all applied already: nothing runs and it
 * succeeds. Migrations are forward-only, so each must suit the code before it too (expand, then
 * contract in a later release: docs/OPERATIONS.md, "Deploying").
 */
export async function migrationsResource(event: CustomResourceEvent, opts: { migrationsDir?: string; deadline?: number } = {}): Promise<CustomResourceResponse> {
  // Read inside a guard: an invalid environment must still be answered (FAILED, naming the variables).
  let config: Config | undefined;
  let invalid: unknown;
  try {
    config = getConfig();
  } catch (err) {
    invalid = err;
  }
  return answerCustomResource(event, {
    physicalResourceId: event.PhysicalResourceId ?? (config ? `${config.service}-migrations-${config.stage}` : event.LogicalResourceId),
    secrets: config ? secretsOf([config.db.sessionUrl, config.db.url]) : [],
    deadline: opts.deadline,
    run: async () => {
      if (invalid) throw invalid;
      if (event.RequestType === 'Delete') return { applied: 0 };
      const result = await applyPendingMigrations(opts.migrationsDir ?? shippedMigrationsDir(), (line) => logger.info('migrations.progress', { line }));
      for (const name of result.modified) logger.warn('migrations.modified_after_apply', { migration: name });
      logger.info('migrations.done', { requestType: event.RequestType, applied: result.applied, alreadyApplied: result.alreadyApplied });
      return { applied: result.applied.length };
    },
  });
}

/** Each URL and the password inside it (decoded too). */
function secretsOf(urls: string[]): string[] {
  return urls.flatMap((url) => {
    try {
      const password = new URL(url).password;
      return [url, password, decodeURIComponent(password)];
    } catch {
      return [url];
    }
  });
}
