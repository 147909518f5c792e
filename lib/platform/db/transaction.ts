import { getConfig, type Config } from '../config';
import { getDb, type Db } from './client';
import { isTransactionBoundError, mapDbError } from './errors';

/** The transaction client Prisma hands to `$transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/**
 * The one way to open an interactive transaction: bounded like the pool, waiting for its connection
 * at most the connect timeout (then 503, "database busy", rather than a 500) and running at most the
 * statement timeout (then 504). Typed errors thrown inside pass through unchanged.
 *
 * Through a transaction pooler its first statement sets this profile's statement and
 * idle-in-transaction timeouts for the transaction alone (a direct connection got them at connect).
 */
export async function inTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const db = await getDb();
  const cfg = getConfig().db;
  const body = cfg.pooler === 'transaction' ? async (tx: Tx) => (await setTransactionTimeouts(tx, cfg), fn(tx)) : fn;
  try {
    return await db.$transaction(body, { maxWait: cfg.connectTimeoutMs, timeout: cfg.statementTimeoutMs });
  } catch (err) {
    if (isTransactionBoundError(err)) mapDbError(err, cfg);
    throw err;
  }
}

/**
 * `set_config(..., true)` lasts until the transaction ends, so the pooler's server connection goes
 * back with its own settings. A bound of 0 means the server's own setting, as on a direct pool
 * (which sends nothing for it): `set_config(name, NULL, true)` resets to it.
 */
async function setTransactionTimeouts(tx: Tx, cfg: Config['db']): Promise<void> {
  const statement = cfg.statementTimeoutMs > 0 ? String(cfg.statementTimeoutMs) : null;
  const idle = cfg.idleInTransactionTimeoutMs > 0 ? String(cfg.idleInTransactionTimeoutMs) : null;
  if (statement === null && idle === null) return;
  await tx.$queryRaw`SELECT set_config('statement_timeout', ${statement}, true), set_config('idle_in_transaction_session_timeout', ${idle}, true)`;
}
