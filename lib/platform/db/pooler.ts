import type { Pool } from 'pg';
import type { Config } from '../config';
import { logger } from '../observability/logger';

/** What bounds a statement sent outside a transaction (autocommit), as /health reports it. */
export interface PoolerStatus {
  pooler: Config['db']['pooler'];
  /**
   * The server-side statement_timeout of autocommit statements in ms (0: none). Direct: the startup
   * parameter this container sends (null when it sends none). Through a pooler: the role/database
   * setting read at the pool's first connection, null until then.
   */
  serverStatementTimeoutMs: number | null;
  /** Through a pooler, when that setting is missing or looser than this profile's: the statement that fixes it. */
  fix?: string;
}

interface Finding {
  ms: number;
  fix?: string;
}
const findings = new WeakMap<Pool, Finding>();
const checks = new WeakMap<Pool, Promise<void>>();

// pg_settings reports statement_timeout in ms whatever unit it was set in ('10s', '1min').
const CHECK_SQL = `SELECT setting::int AS ms, current_user AS role, current_database() AS database
  FROM pg_settings WHERE name = 'statement_timeout'`;

/**
 * Through a transaction pooler the pool sends no timeouts at connect time (the pooler refuses them),
 * so autocommit statements are bounded only by the role/database setting. Reads it (once per pool;
 * again after a failure) and warns with the fix when it is unset or looser than the profile's.
 * lib/platform/db/client.ts runs it as the start-up connection test itself, so it costs no extra round trip.
 */
export function checkServerTimeout(pool: Pool, config: Config): Promise<void> {
  let check = checks.get(pool);
  if (!check) {
    check = pool.query<{ ms: number; role: string; database: string }>(CHECK_SQL).then(
      ({ rows: [row] }) => record(pool, config, row!),
      (err: Error) => {
        checks.delete(pool);
        throw err;
      },
    );
    checks.set(pool, check);
  }
  return check;
}

/**
 * A lazy pool (min 0) has no start-up test: check once its first connection is back in the pool
 * (after the caller's query, on that same idle connection), and again after a failed check.
 */
export function checkAfterFirstUse(pool: Pool, config: Config): void {
  if (config.db.pooler !== 'transaction') return;
  const onRelease = () => {
    if (findings.has(pool)) return void pool.off('release', onRelease);
    if (checks.has(pool)) return;
    setImmediate(() => {
      checkServerTimeout(pool, config).catch((err: Error) => logger.warn('db.pooler.check_failed', { error: err.message }));
    });
  };
  pool.on('release', onRelease);
}

function record(pool: Pool, config: Config, row: { ms: number; role: string; database: string }): void {
  const wanted = config.db.statementTimeoutMs;
  const loose = wanted > 0 && (row.ms === 0 || row.ms > wanted);
  const fix = loose ? alterRoleStatement(row.role, row.database, wanted) : undefined;
  findings.set(pool, { ms: row.ms, fix });
  if (fix) {
    logger.warn('db.pooler.statement_timeout_unset', {
      serverStatementTimeoutMs: row.ms,
      profileStatementTimeoutMs: wanted,
      fix,
      why: 'through a transaction pooler, statements outside a transaction are bounded only by this setting',
    });
  } else {
    logger.info('db.pooler.checked', { serverStatementTimeoutMs: row.ms });
  }
}

/** The pooler finding for `pool` (see PoolerStatus). */
export function poolerStatus(pool: Pool | undefined, config: Config): PoolerStatus {
  const { pooler, statementTimeoutMs } = config.db;
  if (pooler === 'none') return { pooler, serverStatementTimeoutMs: statementTimeoutMs > 0 ? statementTimeoutMs : null };
  const found = pool && findings.get(pool);
  return { pooler, serverStatementTimeoutMs: found?.ms ?? null, ...(found?.fix && { fix: found.fix }) };
}

/** `ALTER ROLE "r" IN DATABASE "d" SET statement_timeout = '10s'`: the role's sessions get it when they start. */
export function alterRoleStatement(role: string, database: string, ms: number): string {
  return `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${quoteIdent(database)} SET statement_timeout = '${pgDuration(ms)}'`;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const pgDuration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
