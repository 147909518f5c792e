import { Pool } from 'pg';
import type { Config } from '../config';
import { logger } from '../observability/logger';
import { getContainerInfo } from '../observability/container';

/**
 * Builds the container's one `pg` Pool with every limit pg leaves unbounded set: how long to wait
 * for a connection, how long a statement or an idle transaction may run, TCP keep-alive, and a
 * maximum connection lifetime. `application_name` names the container so connections can be
 * counted on the server (`pg_stat_activity`).
 */
export function createPool(config: Config): Pool {
  const { db } = config;
  const pool = new Pool({
    connectionString: db.url,
    max: db.poolMax,
    min: db.poolMin,
    connectionTimeoutMillis: db.connectTimeoutMs,
    idleTimeoutMillis: db.idleTimeoutMs,
    maxLifetimeSeconds: db.maxLifetimeSeconds,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: db.statementTimeoutMs,
    idle_in_transaction_session_timeout: db.idleInTransactionTimeoutMs,
    // Client-side bound too: a socket the network silently dropped never answers.
    query_timeout: db.statementTimeoutMs > 0 ? db.statementTimeoutMs + 2_000 : undefined,
    application_name: applicationName(config),
  });
  // An idle client's error (server restart, pg_terminate_backend, network cut) is emitted here;
  // pg-pool has already evicted that client. Without a listener Node would crash the process.
  pool.on('error', (err) => {
    logger.warn('db.pool.idle_client_error', { error: err.message });
  });
  return pool;
}

/** The `application_name` this container's connections carry. */
export function applicationName(config: Pick<Config, 'service' | 'profile'>): string {
  return `${config.service}-${config.profile}-${getContainerInfo().containerId}`;
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
