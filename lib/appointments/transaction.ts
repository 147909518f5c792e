import { getConfig } from '../config';
import { getDb } from '../db/client';
import { DependencyUnavailableError, TimeoutError } from '../errors/app-error';
import type { Tx } from '../outbox/outbox';

/**
 * An interactive transaction bounded like the pool: waiting for its connection at most the pool's
 * connect timeout (then 503, "database busy", rather than a 500), running at most the statement
 * timeout (then 504). Typed errors thrown inside pass through unchanged.
 */
export async function inTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const db = await getDb();
  const { connectTimeoutMs, statementTimeoutMs, poolMax } = getConfig().db;
  try {
    return await db.$transaction(fn, { maxWait: connectTimeoutMs, timeout: statementTimeoutMs });
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e?.code === 'P2028') {
      const message = String(e.message ?? '');
      if (/start a transaction/i.test(message)) {
        throw new DependencyUnavailableError(
          'database',
          `Database busy: no connection became free within ${connectTimeoutMs} ms (pool max ${poolMax})`,
          { cause: err },
        );
      }
      throw new TimeoutError(`Database transaction exceeded ${statementTimeoutMs} ms`, undefined, { cause: err });
    }
    throw err;
  }
}
