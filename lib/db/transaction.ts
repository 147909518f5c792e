import { getConfig } from '../config';
import type { Tx } from '../outbox/outbox';
import { getDb } from './client';
import { isTransactionBoundError, mapDbError } from './errors';

/**
 * The one way to open an interactive transaction: bounded like the pool, waiting for its connection
 * at most the connect timeout (then 503, "database busy", rather than a 500) and running at most the
 * statement timeout (then 504). Typed errors thrown inside pass through unchanged.
 */
export async function inTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const db = await getDb();
  const cfg = getConfig().db;
  try {
    return await db.$transaction(fn, { maxWait: cfg.connectTimeoutMs, timeout: cfg.statementTimeoutMs });
  } catch (err) {
    if (isTransactionBoundError(err)) mapDbError(err, cfg);
    throw err;
  }
}
