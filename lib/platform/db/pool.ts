import type { Pool, PoolClient } from 'pg';
import type { Config } from '../config';
import { logger } from '../observability/logger';
import { connectionName } from '../observability/container';
import { checkAfterFirstUse } from './pooler';
import { pgConnection } from './pg-connection';

/**
 * Builds the container's one `pg` Pool with every limit pg leaves unbounded set: how long to wait
 * for a connection, how long a statement or an idle transaction may run, TCP keep-alive, and a
 * maximum connection lifetime. `application_name` names the container so connections can be
 * counted on the server (`pg_stat_activity`).
 *
 * Through a transaction pooler (DB_POOLER=transaction) the timeouts cannot travel as startup
 * parameters (PgBouncer refuses the connection): lib/platform/db/transaction.ts sets them in each
 * transaction, and a role setting, checked at the first connection, bounds the rest.
 *
 * `pg` is loaded here, at the first use of the database, not when a function's code is imported.
 */
export async function createPool(config: Config): Promise<Pool> {
  const { Pool: PgPool } = await import('pg');
  const { db } = config;
  const sessionTimeouts =
    db.pooler === 'transaction'
      ? {}
      : { statement_timeout: db.statementTimeoutMs, idle_in_transaction_session_timeout: db.idleInTransactionTimeoutMs };
  const pool = new PgPool({
    max: db.poolMax,
    min: db.poolMin,
    connectionTimeoutMillis: db.connectTimeoutMs,
    idleTimeoutMillis: db.idleTimeoutMs,
    maxLifetimeSeconds: db.maxLifetimeSeconds,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...sessionTimeouts,
    // Client-side bound too: a socket the network silently dropped never answers.
    query_timeout: db.statementTimeoutMs > 0 ? db.statementTimeoutMs + 2_000 : undefined,
    application_name: applicationName(config),
    ...pgConnection(db.url),
  });
  // An idle client's error (server restart, pg_terminate_backend, network cut) is emitted here;
  // pg-pool has already evicted that client. Without a listener Node would crash the process.
  pool.on('error', (err) => {
    logger.warn('db.pool.idle_client_error', { error: err.message });
  });
  trackIdleClients(pool);
  if (db.poolMin === 0) checkAfterFirstUse(pool, config);
  return pool;
}

/** The `application_name` this container's connections carry. */
export function applicationName(config: Pick<Config, 'service' | 'profile'>): string {
  return connectionName(config.service, config.profile);
}

/** Pool totals for /health and logs. */
export function poolStats(pool: Pool) {
  return {
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
    max: pool.options.max,
    min: pool.options.min,
  };
}

const idleClients = new WeakMap<Pool, Set<PoolClient>>();

/** Keeps the set of idle clients from the pool's public events (pg-pool exposes only counts). */
function trackIdleClients(pool: Pool): void {
  const idle = new Set<PoolClient>();
  idleClients.set(pool, idle);
  pool.on('acquire', (client) => idle.delete(client));
  pool.on('release', (err: Error | undefined, client: PoolClient) => {
    if (!err) idle.add(client);
  });
  pool.on('remove', (client) => idle.delete(client));
}

/**
 * Drops every idle connection. Called when one connection turned out dead: its idle siblings went
 * through the same freeze or network cut, and finding each by a query timeout would cost seconds
 * apiece. Destroying the socket makes pg report the client broken and pg-pool evict it; the promise
 * settles once they are gone (bounded), so a retry cannot be handed one of them.
 */
export async function evictIdleClients(pool: Pool, boundMs = 1_000): Promise<number> {
  const idle = idleClients.get(pool);
  if (!idle || idle.size === 0) return 0;
  const victims = [...idle];
  idle.clear();
  await Promise.all(
    victims.map((client) => {
      const gone = new Promise<void>((resolve) => {
        client.once('end', () => resolve());
        setTimeout(resolve, boundMs).unref();
      });
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      return gone;
    }),
  );
  return victims.length;
}
