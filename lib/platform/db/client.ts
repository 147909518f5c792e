import { backOff } from 'exponential-backoff';
import type { Pool } from 'pg';
import { getConfig } from '../config';
import { DependencyUnavailableError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { getKeyring } from '../crypto/keyring';
import { isConnectionLost, isStartupParameterRefused, mapDbError as mapError } from './errors';
import { openResult, sealArgs } from './field-encryption';
import { createPool, evictIdleClients, poolStats } from './pool';
import { checkServerTimeout, poolerStatus, type PoolerStatus } from './pooler';

/**
 * Model reads that are safe to run again on a fresh connection when the first one was found dead.
 * Raw queries are not retried: they may write (UPDATE ... RETURNING, nextval()).
 */
const RETRYABLE_READS = new Set([
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany',
  'count', 'aggregate', 'groupBy',
]);

const mapDbError = (err: unknown): never => mapError(err, getConfig().db);

/**
 * Prisma over the container's pool. Prisma's runtime and its query compiler are loaded here, at the
 * first use of the client: a function whose route needs only the pool (/health) never loads them.
 */
async function createClient(pool: Pool) {
  const [{ PrismaPg }, { PrismaClient }] = await Promise.all([import('@prisma/adapter-pg'), import('./generated/client')]);
  const adapter = new PrismaPg(pool, {
    onConnectionError: (err) => logger.warn('db.connection_error', { error: err.message }),
  });
  return new PrismaClient({ adapter }).$extends({
    name: 'connection-resilience',
    query: {
      async $allOperations({ operation, args, query }) {
        try {
          return await query(args);
        } catch (err) {
          if (!isConnectionLost(err)) return mapDbError(err);
          await dropIdleSiblings(pool, operation);
          if (!RETRYABLE_READS.has(operation)) return mapDbError(err);
          return await query(args).catch(mapDbError);
        }
      },
    },
  }).$extends({
    // Encryption at rest (./field-encryption.ts): sealed on the way in, opened on the way out.
    name: 'field-encryption',
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          const ring = getKeyring(pool);
          return openResult(ring, await query((await sealArgs(ring, model, operation, args)) as typeof args));
        },
      },
    },
  });
}

/**
 * pg-pool has evicted a client found dead. Its idle siblings went through the same freeze or
 * network cut: drop them too rather than find each dead one by a timeout.
 */
async function dropIdleSiblings(pool: Pool, operation: string): Promise<void> {
  const evicted = await evictIdleClients(pool);
  logger.warn('db.connection_lost', { operation, evictedIdle: evicted });
}

/** The Prisma client type this product uses (with its resilience extension). */
export type Db = Awaited<ReturnType<typeof createClient>>;

interface DbState {
  pool: Pool;
  client?: Promise<Db>;
  ready?: Promise<Db>;
}
let state: DbState | undefined;
let creating: Promise<DbState> | undefined;

function ensureState(): Promise<DbState> {
  if (state) return Promise.resolve(state);
  creating ??= createPool(getConfig()).then(
    (pool) => (state = { pool }),
    (err: unknown) => {
      creating = undefined;
      throw err;
    },
  );
  return creating;
}

/**
 * One `SELECT 1` on the container's pool, without Prisma (a probe needs neither its runtime nor its
 * query compiler), failing as a Prisma query would: a dead connection drops its idle siblings, and
 * the error is the product's (503 lost or busy, 504 timed out). Not retried, like any raw query.
 */
export async function pingDatabase(): Promise<Pool> {
  const { pool } = await ensureState();
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    if (isConnectionLost(err)) await dropIdleSiblings(pool, 'ping');
    mapDbError(err);
  }
  return pool;
}

/**
 * The container's Prisma client. The first call (per container, and again after a failed start)
 * tests a connection with bounded retries and progressive delay; later calls return at once.
 * With pool min 0 (socket profile) nothing is opened until the first query.
 */
export async function getDb(): Promise<Db> {
  const s = state ?? (await ensureState());
  s.ready ??= startupCheck(s).catch((err) => {
    s.ready = undefined;
    throw err;
  });
  return s.ready;
}

async function startupCheck(s: DbState): Promise<Db> {
  const { db, profile } = getConfig();
  s.client ??= createClient(s.pool);
  if (db.poolMin === 0) {
    logger.info('db.pool.created', { lazy: true, pool: poolStats(s.pool) });
    return s.client;
  }
  const started = Date.now();
  let attempts = 0;
  try {
    await backOff(
      async () => {
        attempts += 1;
        // Through a pooler the test reads the role's statement_timeout too (lib/platform/db/pooler.ts).
        if (db.pooler === 'transaction') await checkServerTimeout(s.pool, getConfig());
        else await s.pool.query('SELECT 1');
      },
      {
        numOfAttempts: db.startupAttempts,
        startingDelay: db.startupBaseDelayMs,
        timeMultiple: 2,
        maxDelay: 5_000,
        retry: (err: Error, next: number) => {
          logger.warn('db.pool.connect_retry', { attempt: next - 1, error: err.message });
          // A pooler refusing the timeouts refuses them every time: say so at once.
          return !isStartupParameterRefused(err);
        },
      },
    );
  } catch (err) {
    const refused = isStartupParameterRefused(err);
    const message = refused
      ? 'Database refused the connection: DATABASE_URL goes through a transaction pooler (set DB_POOLER=transaction)'
      : `Database unreachable after ${attempts} attempts`;
    logger.error('db.pool.connect_failed', { attempts, error: (err as Error).message, ...(refused && { fix: 'DB_POOLER=transaction' }) });
    throw new DependencyUnavailableError('database', message, { cause: err });
  }
  // The first Prisma query loads its query compiler (WASM): pay that at cold start, not mid-request.
  const client = await s.client;
  await client.$queryRaw`SELECT 1`;
  logger.info('db.pool.connected', {
    profile,
    attempts,
    latencyMs: Date.now() - started,
    pool: poolStats(s.pool),
  });
  return client;
}

/** The pool under the client, for health totals; undefined until the database was first used. */
export function getPoolIfCreated(): Pool | undefined {
  return state?.pool;
}

/**
 * What bounds this container's autocommit statements (through a pooler: the role setting read at the
 * first connection), for /health and operators.
 */
export function getPoolerStatus(): PoolerStatus {
  return poolerStatus(state?.pool, getConfig());
}

/** Disconnects Prisma and ends the pool. Only lib/platform/lifecycle calls this. */
export async function closeDb(): Promise<void> {
  const s = state ?? (await creating?.catch(() => undefined));
  state = undefined;
  creating = undefined;
  if (!s) return;
  const client = await s.client?.catch(() => undefined);
  await client?.$disconnect().catch(() => undefined);
  await s.pool.end();
  logger.info('db.pool.closed');
}
