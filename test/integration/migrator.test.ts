/**
 * lib/platform/db/migrator.ts against real PostgreSQL, on scratch databases created and dropped here.
 *
 * What must hold for the runner to stand in for `prisma migrate deploy`: it records each migration
 * in `_prisma_migrations` the way Prisma does (so Prisma later sees them as applied), applies each
 * migration once and atomically, says which one failed, notices edited files, is safe to start
 * from several places at once (a whole-run lock, and Prisma's advisory lock in each migration's
 * transaction), and refuses a transaction pooler (a real PgBouncer here) rather than corrupt a run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../lib/platform/db/migrator';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';

const MIGRATIONS_DIR = path.join(__dirname, '..', '..', 'prisma', 'migrations');

const scratchDatabases: string[] = [];
const tempDirs: string[] = [];

/** A URL for a database that does not exist yet; afterAll drops it. */
function scratchDatabase(label: string): string {
  const name = `agenda_scratch_migrator_${label}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  scratchDatabases.push(name);
  return urlFor(name);
}

function urlFor(database: string): string {
  const url = new URL(TEST_DIRECT_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(databaseUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A migrations folder in Prisma's layout, in a temp dir: `{ '0001_name': 'SQL', ... }`. */
async function migrationsFolder(migrations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agenda-migrations-'));
  tempDirs.push(dir);
  await writeFile(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) await writeMigration(dir, name, sql);
  return dir;
}

async function writeMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name), { recursive: true });
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

function migrationRows(databaseUrl: string): Promise<MigrationRow[]> {
  return withClient(databaseUrl, async (c) => (await c.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name')).rows);
}

function tableExists(databaseUrl: string, table: string): Promise<boolean> {
  return withClient(databaseUrl, async (c) => (await c.query('SELECT to_regclass($1) AS t', [table])).rows[0].t !== null);
}

/** SHA-256 hex of the file's bytes: the checksum Prisma stores and compares. */
function fileChecksum(dir: string, name: string): string {
  return createHash('sha256').update(readFileSync(path.join(dir, name, 'migration.sql'))).digest('hex');
}

const repoMigrations = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

afterAll(async () => {
  await withClient(urlFor('postgres'), async (c) => {
    for (const name of scratchDatabases) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('prisma/migrations', () => {
  it("keeps Prisma's folder layout, so `prisma migrate deploy` can read it", () => {
    expect(readFileSync(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toMatch(/^provider = "postgresql"$/m);
    expect(repoMigrations.length).toBeGreaterThan(0);
    for (const name of repoMigrations) {
      expect(name).toMatch(/^\d{14}_[a-z0-9_]+$/);
      expect(existsSync(path.join(MIGRATIONS_DIR, name, 'migration.sql'))).toBe(true);
    }
  });
});

describe('migrate()', () => {
  it("applies every migration once and records it as Prisma does; a second run applies nothing", async () => {
    const url = scratchDatabase('repo');
    const lines: string[] = [];

    const first = await migrate({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR, createDatabase: true, log: (l) => lines.push(l) });
    expect(first).toEqual({ applied: repoMigrations, alreadyApplied: [], modified: [] });
    expect(lines).toEqual(expect.arrayContaining(repoMigrations.map((name) => `applied ${name}`)));

    const rows = await migrationRows(url);
    expect(rows.map((r) => r.migration_name).sort()).toEqual(repoMigrations);
    for (const row of rows) {
      expect(row).toMatchObject({
        checksum: fileChecksum(MIGRATIONS_DIR, row.migration_name),
        rolled_back_at: null,
        logs: null,
        applied_steps_count: 1,
      });
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect((row.finished_at as Date).getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }

    const second = await migrate({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR });
    expect(second).toEqual({ applied: [], alreadyApplied: repoMigrations, modified: [] });
    expect(await migrationRows(url)).toEqual(rows);
  });

  it('rolls a failing migration back completely, records it, and names it in the error', async () => {
    const url = scratchDatabase('broken');
    const dir = await migrationsFolder({
      '0001_good': 'CREATE TABLE good_t (id integer PRIMARY KEY);',
      // The first statements succeed; only the last one fails.
      '0002_broken': `CREATE TABLE partial_t (id integer PRIMARY KEY);
INSERT INTO partial_t VALUES (1);
ALTER TABLE good_t ADD COLUMN note text;
ALTER TABLE no_such_table ADD COLUMN x integer;`,
      '0003_later': 'CREATE TABLE later_t (id integer PRIMARY KEY);',
    });
    const lines: string[] = [];

    const error = await migrate({ databaseUrl: url, migrationsDir: dir, createDatabase: true, log: (l) => lines.push(l) }).then(
      () => fail('expected migrate() to reject'),
      (err: Error) => err,
    );
    expect(error.message).toMatch(/Migration 0002_broken failed and was rolled back: relation "no_such_table" does not exist/);
    expect(lines).toContain('applied 0001_good');
    expect(lines.join('\n')).not.toMatch(/applied 0002_broken|0003_later/);

    // Nothing of 0002 is left behind, and nothing after it ran.
    expect(await tableExists(url, 'good_t')).toBe(true);
    expect(await tableExists(url, 'partial_t')).toBe(false);
    expect(await tableExists(url, 'later_t')).toBe(false);
    const goodColumns = await withClient(url, async (c) =>
      (await c.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'good_t'`)).rows.map((r) => r.column_name),
    );
    expect(goodColumns).toEqual(['id']);

    const rows = await migrationRows(url);
    expect(rows.map((r) => r.migration_name)).toEqual(['0001_good', '0002_broken']);
    const broken = rows[1] as MigrationRow;
    expect(broken).toMatchObject({ finished_at: null, applied_steps_count: 0, checksum: fileChecksum(dir, '0002_broken') });
    expect(broken.rolled_back_at).toBeInstanceOf(Date);
    expect(broken.logs).toContain('relation "no_such_table" does not exist');

    // A rolled-back migration counts as not applied (as after `prisma migrate resolve --rolled-back`):
    // once fixed, the next run applies it and everything after it.
    await writeMigration(dir, '0002_broken', 'CREATE TABLE partial_t (id integer PRIMARY KEY);');
    const retry = await migrate({ databaseUrl: url, migrationsDir: dir });
    expect(retry).toEqual({ applied: ['0002_broken', '0003_later'], alreadyApplied: ['0001_good'], modified: [] });
    const after = await migrationRows(url);
    expect(after.filter((r) => r.migration_name === '0002_broken').map((r) => !!r.finished_at).sort()).toEqual([false, true]);
  });

  it('refuses to run past a migration that failed without being resolved', async () => {
    const url = scratchDatabase('unresolved');
    const dir = await migrationsFolder({ '0001_one': 'CREATE TABLE one_t (id integer);' });
    await migrate({ databaseUrl: url, migrationsDir: dir, createDatabase: true });
    // What a runner killed mid-migration leaves behind (and what Prisma reports as P3009).
    await withClient(url, (c) =>
      c.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, '0002_crashed')`, [randomUUID(), 'x'.repeat(64)]),
    );
    await writeMigration(dir, '0003_next', 'CREATE TABLE next_t (id integer);');

    await expect(migrate({ databaseUrl: url, migrationsDir: dir })).rejects.toThrow(/Migration 0002_crashed failed earlier and was not resolved/);
    expect(await tableExists(url, 'next_t')).toBe(false);
  });

  it('reports a migration whose file changed after it was applied, without re-running it', async () => {
    const url = scratchDatabase('modified');
    const dir = await migrationsFolder({
      '0001_one': 'CREATE TABLE one_t (id integer);',
      '0002_two': 'CREATE TABLE two_t (id integer);',
    });
    await migrate({ databaseUrl: url, migrationsDir: dir, createDatabase: true });
    const before = await migrationRows(url);

    await writeMigration(dir, '0002_two', 'CREATE TABLE two_t (id integer, extra text);');
    const result = await migrate({ databaseUrl: url, migrationsDir: dir });

    expect(result).toEqual({ applied: [], alreadyApplied: ['0001_one', '0002_two'], modified: ['0002_two'] });
    expect(await migrationRows(url)).toEqual(before); // the stored checksum stays the applied one
  });

  it('lets concurrent runners on one fresh database apply each migration exactly once: one applies, the others wait and find them applied', async () => {
    const url = scratchDatabase('concurrent');
    const { dir, names } = await slowMigrations();

    const results = await Promise.all(
      Array.from({ length: 3 }, () => migrate({ databaseUrl: url, migrationsDir: dir, createDatabase: true })),
    );

    expectOneRunApplied(results, names);
    await expectAppliedOnce(url, names);
  });

  it("waits for Prisma's own lock (as `prisma migrate deploy` holds it), and gives up after lockTimeoutMs", async () => {
    const url = scratchDatabase('prisma_lock');
    const dir = await migrationsFolder({ '0001_one': 'CREATE TABLE one_t (id integer);' });
    await migrate({ databaseUrl: url, migrationsDir: dir, createDatabase: true });
    await writeMigration(dir, '0002_two', 'CREATE TABLE two_t (id integer);');
    const prisma = new Client({ connectionString: url });
    await prisma.connect();
    try {
      await prisma.query('SELECT pg_advisory_lock(72707369)');
      await expect(migrate({ databaseUrl: url, migrationsDir: dir, lockTimeoutMs: 300 })).rejects.toThrow(
        /Another migration run holds the lock \(advisory lock 72707369\); gave up after 300 ms/,
      );
      expect(await tableExists(url, 'two_t')).toBe(false);

      const started = Date.now();
      const run = migrate({ databaseUrl: url, migrationsDir: dir });
      await new Promise((resolve) => setTimeout(resolve, 600));
      await prisma.query('SELECT pg_advisory_unlock(72707369)');
      expect(await run).toEqual({ applied: ['0002_two'], alreadyApplied: ['0001_one'], modified: [] });
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    } finally {
      await prisma.end();
    }
  });
});

describe('migrate() and a transaction pooler (PgBouncer, transaction mode)', () => {
  let bouncer: PgBouncer;

  beforeAll(async () => {
    bouncer = await startPgBouncer({ poolSize: 5 });
  });
  afterAll(async () => {
    await bouncer?.stop();
  });

  it('refuses to run through it, naming DIRECT_DATABASE_URL, before touching anything', async () => {
    const url = scratchDatabase('pooled');
    const error = await migrate({ databaseUrl: bouncer.urlFor(url), migrationsDir: MIGRATIONS_DIR, createDatabase: true }).then(
      () => fail('expected migrate() to refuse'),
      (err: Error) => err,
    );
    expect(error.name).toBe('PoolerDetectedError');
    expect(error.message).toMatch(/^Migrations need a direct connection, but this one goes through a transaction pooler \(.+\)\. Set DIRECT_DATABASE_URL/);
    expect(await tableExists(url, '_prisma_migrations')).toBe(false);
    expect(await advisoryLocks(url)).toBe(0);
  });

  it('refuses it every time, also while other clients keep its server connections busy', async () => {
    const url = scratchDatabase('pooled_busy');
    await migrate({ databaseUrl: url, migrationsDir: await migrationsFolder({}), createDatabase: true });
    const load = await busyClients(bouncer.urlFor(url), 12);
    try {
      for (let i = 0; i < 5; i++) {
        await expect(migrate({ databaseUrl: bouncer.urlFor(url), migrationsDir: MIGRATIONS_DIR })).rejects.toThrow(/DIRECT_DATABASE_URL/);
      }
    } finally {
      const queries = await load.stop();
      expect(queries).toBeGreaterThan(50); // the load was real
    }
    expect(await tableExists(url, '_prisma_migrations')).toBe(false);
  });

  it('with the check skipped (as if it were fooled), concurrent runs through it still apply each migration once and leave no lock held', async () => {
    const url = scratchDatabase('pooled_concurrent');
    await migrate({ databaseUrl: url, migrationsDir: await migrationsFolder({}), createDatabase: true });
    const { dir, names } = await slowMigrations();

    const results = await Promise.all(
      Array.from({ length: 3 }, () => migrate({ databaseUrl: bouncer.urlFor(url), migrationsDir: dir, skipPoolerCheck: true })),
    );

    expectOneRunApplied(results, names);
    await expectAppliedOnce(url, names);
    expect(await advisoryLocks(url)).toBe(0);
  });
});

/** Three migrations; the sleeps widen the window, and the CREATE TABLEs would fail if one ran twice. */
async function slowMigrations() {
  const dir = await migrationsFolder({
    '0001_slow': 'SELECT pg_sleep(0.3); CREATE TABLE slow_t (id integer);',
    '0002_next': 'CREATE TABLE next_t (id integer);',
    '0003_last': 'SELECT pg_sleep(0.1); CREATE TABLE last_t (id integer);',
  });
  return { dir, names: ['0001_slow', '0002_next', '0003_last'] };
}

function expectOneRunApplied(results: Awaited<ReturnType<typeof migrate>>[], names: string[]): void {
  const appliedAll = results.filter((r) => r.applied.length > 0);
  expect(appliedAll).toEqual([{ applied: names, alreadyApplied: [], modified: [] }]);
  expect(results.filter((r) => r.applied.length === 0)).toEqual(
    Array(results.length - 1).fill({ applied: [], alreadyApplied: names, modified: [] }),
  );
}

async function expectAppliedOnce(url: string, names: string[]): Promise<void> {
  const rows = await migrationRows(url);
  expect(rows.map((r) => r.migration_name).sort()).toEqual(names);
  expect(rows.every((r) => r.finished_at && !r.rolled_back_at)).toBe(true);
}

/** Advisory locks held in the database (a lock left on a pooled server connection would show here). */
function advisoryLocks(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()`,
    );
    return rows[0].n as number;
  });
}

/** `n` clients looping short queries through `url` until stopped; resolves to how many ran. */
async function busyClients(url: string, n: number): Promise<{ stop(): Promise<number> }> {
  let running = true;
  let count = 0;
  const clients = await Promise.all(
    Array.from({ length: n }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const loops = clients.map(async (c) => {
    while (running) {
      await c.query('SELECT pg_sleep(0.002)');
      count += 1;
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.end()));
      return count;
    },
  };
}

function fail(message: string): never {
  throw new Error(message);
}
