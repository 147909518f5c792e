/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';
import base from './jest.config';

/**
 * The second pass of `npm test`: the integration suites that use the database, run again with the
 * product behind a real PgBouncer in transaction mode (stock settings) and DB_POOLER=transaction.
 * test/setup/pooler-global-setup.ts starts PgBouncer in front of the run's fresh database; test files
 * get its URL as TEST_DATABASE_URL and PostgreSQL's own as TEST_DIRECT_DATABASE_URL.
 *
 * Left out, because they measure the connection layer against the server itself, which a pooler
 * in between would change rather than exercise:
 * - warm-reuse: counts each container's server sessions (behind a pooler the server sees PgBouncer's);
 * - thaw: kills the container's server sessions (pg_terminate_backend) and blackholes its sockets;
 * - pool-exhausted: the pg pool's own bound, held by server-side sleeps;
 * - dependency-down: Redis through a TCP proxy; the database path is the one this pass already covers;
 * - migrator, schema-match: read and write the schema directly (the migrator refuses a pooler; its
 *   cases with PgBouncer run in the first pass, as do pooler and pooler-budget, which start their own);
 * - rate-limit, redis-options: Redis only.
 */
export const POOLED_SUITES = [
  'api-key-scopes', 'socket-handshake', 'appointments', 'bad-input-corpus', 'control-expiry', 'controls', 'double-booking', 'idempotency',
  'in-app-backlog', 'in-app-live', 'job-outcome', 'no-show', 'notifications', 'outbox', 'outbox-redrive',
  'patients', 'professionals', 'reminder-offsets', 'renewal-slot', 'renewals', 'retention', 'seed', 'slots',
  'socket-broadcast', 'socket-lifecycle', 'tenancy', 'webhook-operations', 'webhook-ssrf-send',
  'webhook-worker', 'webhooks',
];

const config: Config = {
  ...base,
  testMatch: POOLED_SUITES.map((name) => `<rootDir>/test/integration/${name}.test.ts`),
  globalSetup: '<rootDir>/test/setup/pooler-global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/pooler-global-teardown.ts',
};

export default config;
