import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { ensureDatabase } from './create-database';
import { pgConnection } from './pg-connection';
import { assertOwnSession } from './session-probe';

/** Prisma's own advisory lock key, so this runner and `prisma migrate deploy` never apply at the same time. */
const PRISMA_MIGRATE_LOCK = 72707369;
/** This runner's whole-run lock: (Prisma's key, 1) in the two-key space, apart from Prisma's own. */
const RUN_LOCK: [number, number] = [PRISMA_MIGRATE_LOCK, 1];

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
  /** Applied migrations whose file changed since (Prisma warns about the same). */
  modified: string[];
}

export interface MigrateOptions {
  /** A direct connection (DIRECT_DATABASE_URL, else DATABASE_URL): the runner refuses a transaction pooler. */
  databaseUrl: string;
  migrationsDir: string;
  /** Create the database first when it does not exist (local development, tests). */
  createDatabase?: boolean;
  log?: (line: string) => void;
  /** How long to wait for another runner's lock before giving up (Prisma waits 10 s). */
  lockTimeoutMs?: number;
  /** @internal Tests only: skip the pooler check, to show the locks alone keep concurrent runs apart. */
  skipPoolerCheck?: boolean;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Applies prisma/migrations/<name>/migration.sql in order and records each in `_prisma_migrations`
 * exactly as Prisma does (checksum = SHA-256 of the file), so `prisma migrate deploy` on a pipeline
 * with the schema engine treats them as applied.
 *
 * It refuses a transaction pooler (session-probe.ts). Concurrent runs are kept apart twice over: a
 * whole-run lock held by an open transaction on a second connection (the later run waits, then finds
 * everything applied), and, in each migration's own transaction, Prisma's lock as a transaction lock,
 * under which `_prisma_migrations` is created if missing and read again. Neither lock outlives its
 * transaction, so even through a pooler that fooled the check nothing is applied twice or left held.
 */
export async function migrate(opts: MigrateOptions): Promise<MigrationResult> {
  const log = opts.log ?? (() => undefined);
  const lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
  if (opts.createDatabase) await ensureDatabase(opts.databaseUrl, log);
  const client = await connect(opts.databaseUrl, log);
  const guard = await connect(opts.databaseUrl, log).catch(async (err: unknown) => {
    await client.end();
    throw err;
  });
  const result: MigrationResult = { applied: [], alreadyApplied: [], modified: [] };
  try {
    if (!opts.skipPoolerCheck) await assertOwnSession(client, guard);
    await holdRunLock(guard, lockTimeoutMs, log);
    for (const name of await listMigrations(opts.migrationsDir)) {
      const sql = await readFile(path.join(opts.migrationsDir, name, 'migration.sql'), 'utf8');
      const outcome = await applyOne(client, name, sql, lockTimeoutMs);
      if (outcome === 'applied') {
        result.applied.push(name);
        log(`applied ${name}`);
      } else {
        result.alreadyApplied.push(name);
        if (outcome === 'modified') result.modified.push(name);
      }
    }
  } finally {
    await guard.query('ROLLBACK').catch(() => undefined);
    await Promise.all([guard.end(), client.end()]);
  }
  return result;
}

async function connect(databaseUrl: string, log: (line: string) => void): Promise<Client> {
  const client = new Client({ application_name: 'agenda-migrate', ...pgConnection(databaseUrl) });
  client.on('error', (err) => log(`connection error: ${err.message}`)); // the next query reports it
  await client.connect();
  return client;
}

/**
 * Takes the whole-run lock in a transaction left open on `guard` until the run ends. Its idle time
 * is exempt from a role's idle_in_transaction_session_timeout, which would otherwise drop the lock.
 */
async function holdRunLock(guard: Client, timeoutMs: number, log: (line: string) => void): Promise<void> {
  await guard.query('BEGIN');
  await guard.query(`SELECT set_config('idle_in_transaction_session_timeout', '0', true)`);
  const waited = await lockWithin(guard, 'SELECT pg_try_advisory_xact_lock($1, $2) AS locked', RUN_LOCK, timeoutMs);
  if (waited) log(`waited ${waited} ms for another migration run`);
}

/**
 * Applies one migration in its own transaction, under Prisma's lock; the table is read again under
 * it, so what another runner (or `prisma migrate deploy`) applied meanwhile is seen. A failure rolls
 * everything of it back and is recorded as Prisma records it (rolled_back_at, logs).
 */
async function applyOne(client: Client, name: string, sql: string, lockTimeoutMs: number): Promise<'applied' | 'already' | 'modified'> {
  const checksum = createHash('sha256').update(sql).digest('hex');
  const id = randomUUID();
  let startedAt: Date | undefined;
  await client.query('BEGIN');
  try {
    await lockWithin(client, 'SELECT pg_try_advisory_xact_lock($1) AS locked', [PRISMA_MIGRATE_LOCK], lockTimeoutMs);
    // A migration may build an index for minutes; a role's statement_timeout is meant for requests.
    await client.query(`SELECT set_config('statement_timeout', '0', true)`);
    await client.query(CREATE_TABLE);
    const { rows } = await client.query<MigrationRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
    const failed = rows.find((r) => !r.finished_at && !r.rolled_back_at);
    if (failed) {
      throw new Error(
        `Migration ${failed.migration_name} failed earlier and was not resolved; fix the database, then mark it ` +
          `rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '...')`,
      );
    }
    const done = rows.find((r) => r.migration_name === name && r.finished_at);
    if (done) {
      await client.query('COMMIT');
      return done.checksum === checksum ? 'already' : 'modified';
    }
    const inserted = await client.query<{ started_at: Date }>(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3) RETURNING started_at',
      [id, checksum, name],
    );
    startedAt = inserted.rows[0]!.started_at;
    await client.query(sql);
    await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
    await client.query('COMMIT');
    return 'applied';
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (!startedAt) throw err; // failed before the migration ran: nothing to record
    await recordFailure(client, { id, checksum, name, startedAt, error: (err as Error).message }, lockTimeoutMs).catch(() => undefined);
    throw new Error(`Migration ${name} failed and was rolled back: ${(err as Error).message}`, { cause: err });
  }
}

/** The row Prisma leaves for a migration that failed and was rolled back. */
async function recordFailure(
  client: Client,
  row: { id: string; checksum: string; name: string; startedAt: Date; error: string },
  lockTimeoutMs: number,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await lockWithin(client, 'SELECT pg_try_advisory_xact_lock($1) AS locked', [PRISMA_MIGRATE_LOCK], lockTimeoutMs);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs, rolled_back_at)
       VALUES ($1, $2, $3, $4, $5, now())`,
      [row.id, row.checksum, row.name, row.startedAt, row.error],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Polls a transaction-level try-lock until it is granted (returns how long that took) or `timeoutMs`
 * passes. Polling, not a blocking wait: a blocking wait would need lock_timeout, which would then
 * also bound the locks the migration's own statements take.
 */
async function lockWithin(client: Client, sql: string, params: number[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>(sql, params);
    if (rows[0]?.locked) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`Another migration run holds the lock (advisory lock ${params.join(', ')}); gave up after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function listMigrations(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}
