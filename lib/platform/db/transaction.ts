import { getConfig, type Config } from '../config';
import { currentActor, type Actor } from './actor';
import { getDb, type Db } from './client';
import { isTransactionBoundError, mapDbError } from './errors';

/** The transaction client Prisma hands to `$transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** How a transaction runs: `isolationLevel` for a consistent snapshot across several reads (the export). */
export interface TransactionOptions {
  isolationLevel?: 'ReadCommitted' | 'RepeatableRead' | 'Serializable';
}

/**
 * The one way to open an interactive transaction: bounded like the pool, waiting for its connection
 * at most the connect timeout (then 503, "database busy", rather than a 500) and running at most the
 * statement timeout (then 504). Typed errors thrown inside pass through unchanged.
 *
 * Its first statement names the actor (lib/platform/db/actor.ts) for the audit triggers and, through
 * a transaction pooler, sets this profile's statement and idle-in-transaction timeouts for the
 * transaction alone (a direct connection got them at connect): one statement for both, and none
 * when there is nothing to set.
 */
export async function inTransaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const db = await getDb();
  const cfg = getConfig().db;
  const settings = [...actorSettings(currentActor()), ...(cfg.pooler === 'transaction' ? timeoutSettings(cfg) : [])];
  const body = settings.length > 0 ? async (tx: Tx) => (await applySettings(tx, settings), fn(tx)) : fn;
  try {
    return await db.$transaction(body, { maxWait: cfg.connectTimeoutMs, timeout: cfg.statementTimeoutMs, ...options });
  } catch (err) {
    if (isTransactionBoundError(err)) mapDbError(err, cfg);
    throw err;
  }
}

type Setting = [name: string, value: string | null];

/** The audit triggers' settings; the system (no context) sends none, as the triggers default to it. */
function actorSettings(actor: Actor): Setting[] {
  if (actor.type === 'system' && !actor.requestId) return [];
  return [
    ['agenda.actor_type', actor.type],
    // Cut to the columns' widths: a long job id must never fail the change it describes.
    ['agenda.actor_id', (actor.id ?? '').slice(0, 64)],
    ['agenda.request_id', (actor.requestId ?? '').slice(0, 128)],
  ];
}

/**
 * A bound of 0 means the server's own setting, as on a direct pool (which sends nothing for it):
 * `set_config(name, NULL, true)` resets to it.
 */
function timeoutSettings(cfg: Config['db']): Setting[] {
  const statement = cfg.statementTimeoutMs > 0 ? String(cfg.statementTimeoutMs) : null;
  const idle = cfg.idleInTransactionTimeoutMs > 0 ? String(cfg.idleInTransactionTimeoutMs) : null;
  if (statement === null && idle === null) return [];
  return [
    ['statement_timeout', statement],
    ['idle_in_transaction_session_timeout', idle],
  ];
}

/**
 * `set_config(..., true)` lasts until the transaction ends, so a pooled server connection goes back
 * with its own settings. Names and values travel as parameters of one statement.
 */
async function applySettings(tx: Tx, settings: Setting[]): Promise<void> {
  const names = settings.map(([n]) => n);
  const values = settings.map(([, v]) => v);
  await tx.$queryRaw`SELECT set_config(s.name, s.value, true) FROM unnest(${names}::text[], ${values}::text[]) AS s(name, value)`;
}
