import { randomUUID } from 'node:crypto';
import { TEST_DATABASE_URL, TEST_DB_POOLER, TEST_DIRECT_DATABASE_URL, TEST_REDIS_CLUSTER_NODES, TEST_REDIS_URL } from './test-env';

// Each test file gets its own module registry (so its own singletons) and its own queue prefix,
// so files never see each other's jobs.
process.env.DATABASE_URL = TEST_DATABASE_URL;
// The pass through PgBouncer runs the product as it runs behind a transaction pooler.
if (TEST_DB_POOLER === 'transaction') {
  process.env.DB_POOLER = 'transaction';
  process.env.DIRECT_DATABASE_URL = TEST_DIRECT_DATABASE_URL;
}
process.env.REDIS_URL = TEST_REDIS_URL;
const prefix = `test-${randomUUID().slice(0, 8)}`;
process.env.QUEUE_PREFIX = prefix;
// The pass on a Redis Cluster: the product on the cluster, with the hash-tagged prefix it requires.
// REDIS_URL then names a port nothing listens on, so a client that reached for one server fails.
if (TEST_REDIS_CLUSTER_NODES) {
  process.env.REDIS_CLUSTER_NODES = TEST_REDIS_CLUSTER_NODES;
  process.env.REDIS_URL = 'redis://127.0.0.1:1';
  process.env.QUEUE_PREFIX = `{${prefix}}`;
} else {
  delete process.env.REDIS_CLUSTER_NODES; // a developer's shell must not move the first passes off one server
}
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_DEV = 'false';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
// /health's full report is the operator's (test/support/invoke.ts getHealth); suites may set their own.
process.env.ADMIN_SECRET ??= `test-admin-${randomUUID()}`;
// Suites send bursts with one API key; test/integration/rate-limit.test.ts sets its own limit.
process.env.RATE_LIMIT_POINTS ??= '100000';
