import { randomUUID } from 'node:crypto';
import { TEST_DATABASE_URL, TEST_DB_POOLER, TEST_DIRECT_DATABASE_URL, TEST_REDIS_URL } from './test-env';

// Each test file gets its own module registry (so its own singletons) and its own queue prefix,
// so files never see each other's jobs.
process.env.DATABASE_URL = TEST_DATABASE_URL;
// The pass through PgBouncer runs the product as it runs behind a transaction pooler.
if (TEST_DB_POOLER === 'transaction') {
  process.env.DB_POOLER = 'transaction';
  process.env.DIRECT_DATABASE_URL = TEST_DIRECT_DATABASE_URL;
}
process.env.REDIS_URL = TEST_REDIS_URL;
process.env.QUEUE_PREFIX = `test-${randomUUID().slice(0, 8)}`;
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_DEV = 'false';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
// Suites send bursts with one API key; test/integration/rate-limit.test.ts sets its own limit.
process.env.RATE_LIMIT_POINTS ??= '100000';
