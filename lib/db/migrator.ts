import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';

/** Prisma's own advisory lock key, so this runner and `prisma migrate deploy` never run together. */
const PRISMA_MIGRATE_LOCK = 72707369;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
  /** Applied migrations whose file changed since (Prisma warns about the same). */
  modified: string[];
}

export interface MigrateOptions {
  databaseUrl: string;
  migrationsDir: string;
  /** Create the database first when it does not exist (local development, tests). */
  createDatabase?: boolean;
  log?: (line: string) => void;
  /** How long to wait for another runner's lock before giving up (Prisma waits 10 s). */
  lockTimeoutMs?: number;
}

/**
 * Applies prisma/migrations/<name>/migration.sql in order and records each in `_prisma_migrations`
 * exactly as Prisma does (checksum = SHA-256 of the file), so `prisma migrate deploy` on a pipeline
 * with the schema engine treats them as applied. Each migration runs in its own transaction.
 */
export async function migrate(opts: MigrateOptions): Promise<MigrationResult> {
  const log = opts.log ?? (() => undefined);
  if (opts.createDatabase) await ensureDatabase(opts.databaseUrl, log);
  const client = new Client({ connectionString: opts.databaseUrl, application_name: 'agenda-migrate' });
  client.on('error', (err) => log(`connection error: ${err.message}`)); // the next query reports it
  await client.connect();
  const result: MigrationResult = { applied: [], alreadyApplied: [], modified: [] };
  try {
    await acquireLock(client, opts.lockTimeoutMs ?? 10_000);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const failed = rows.find((r) => !r.finished_at && !r.rolled_back_at);
    if (failed) {
      throw new Error(
        `Migration ${failed.migration_name} failed earlier and was not resolved; fix the database, then mark it ` +
          `rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '...')`,
      );
    }
    const done = new Map(rows.filter((r) => r.finished_at).map((r) => [r.migration_name, r.checksum]));
    for (const name of await listMigrations(opts.migrationsDir)) {
      const sql = await readFile(path.join(opts.migrationsDir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(name);
      if (previous !== undefined) {
        result.alreadyApplied.push(name);
        if (previous !== checksum) result.modified.push(name);
        continue;
      }
      const id = randomUUID();
      await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)', [id, checksum, name]);
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query(
          'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
          [id],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.query('UPDATE "_prisma_migrations" SET logs = $2, rolled_back_at = now() WHERE id = $1', [id, (err as Error).message]);
        throw new Error(`Migration ${name} failed and was rolled back: ${(err as Error).message}`, { cause: err });
      }
      result.applied.push(name);
      log(`applied ${name}`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => undefined);
    await client.end();
  }
  return result;
}

/** Takes the migration lock, or fails after `timeoutMs` naming the holder's wait. */
async function acquireLock(client: Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PRISMA_MIGRATE_LOCK]);
    if (rows[0]?.locked) return;
    if (Date.now() > deadline) {
      throw new Error(`Another migration run holds the lock (advisory lock ${PRISMA_MIGRATE_LOCK}); gave up after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function listMigrations(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

async function ensureDatabase(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString(), application_name: 'agenda-migrate' });
  admin.on('error', (err) => log(`connection error: ${err.message}`));
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      const created = await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).then(
        () => true,
        (err: { code?: string }) => {
          // Created concurrently: 42P04 when the other CREATE committed before ours started, 23505 (on
          // pg_database_datname_index) when the two raced; either way the database now exists.
          if (err.code !== '42P04' && err.code !== '23505') throw err;
          return false;
        },
      );
      if (created) log(`created database ${name}`);
    }
  } finally {
    await admin.end();
  }
}
