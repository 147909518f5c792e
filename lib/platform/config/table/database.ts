import { z } from 'zod';
import { env, secret } from '../variable';
import { int, postgresUrl } from '../parsers';

/**
 * The PostgreSQL link. Functions fail fast, well inside API Gateway's 29 s, and the socket function
 * opens one connection lazily; the worker holds more and waits longer.
 */
export const DATABASE = {
  url: secret(env('DATABASE_URL', postgresUrl, 'postgresql://postgres@127.0.0.1:5432/agenda',
    'Where queries go: the server, or a transaction pooler in front of it.')),
  pooler: env('DB_POOLER', z.enum(['none', 'transaction']), 'none',
    '`transaction` when DATABASE_URL is a transaction pooler (PgBouncer, RDS Proxy): no session state, timeouts set per transaction.'),
  sessionUrl: secret(env('DIRECT_DATABASE_URL', postgresUrl, (e) => e.DATABASE_URL,
    'A direct (session) connection for what needs one, migrations; unset: DATABASE_URL.')),
  poolMax: env('DB_POOL_MAX', int(1, 100), { api: 2, socket: 1, worker: 10 },
    "Connections one container holds at most; times the function's reserved concurrency, its share of the server."),
  poolMin: env('DB_POOL_MIN', int(0, 100), { api: 1, socket: 0, worker: 1 },
    'Connections kept open while idle (0: opened on first use).'),
  connectTimeoutMs: env('DB_CONNECT_TIMEOUT_MS', int(100, 60_000), { api: 2_000, worker: 10_000 },
    'Bound on getting a connection, opening one or waiting for the pool.'),
  statementTimeoutMs: env('DB_STATEMENT_TIMEOUT_MS', int(0, 3_600_000), { api: 10_000, socket: 5_000, worker: 60_000 },
    'statement_timeout of every connection (0: none).'),
  idleInTransactionTimeoutMs: env('DB_IDLE_IN_TX_TIMEOUT_MS', int(0, 3_600_000), { api: 10_000, socket: 5_000, worker: 60_000 },
    'idle_in_transaction_session_timeout, so a frozen container does not hold locks (0: none).'),
  idleTimeoutMs: env('DB_IDLE_TIMEOUT_MS', int(0, 3_600_000), { api: 60_000, socket: 30_000, worker: 300_000 },
    'An idle connection above the minimum is closed after this.'),
  maxLifetimeSeconds: env('DB_MAX_LIFETIME_S', int(0, 86_400), 1_800,
    'A connection is replaced after this long, so failovers and DNS changes reach every container (0: never).'),
  startupAttempts: env('DB_STARTUP_ATTEMPTS', int(1, 20), 5,
    'Tries of the start-up connection check before it fails.'),
  startupBaseDelayMs: env('DB_STARTUP_BASE_DELAY_MS', int(10, 10_000), 200,
    'Delay before the second try; it grows with each.'),
};
