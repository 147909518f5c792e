/**
 * The database the product under test uses; created and migrated by global-setup.ts. In the pass
 * through PgBouncer (jest.pooler.config.ts) it is PgBouncer's URL for that database.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agenda_test';
/**
 * The same database without a pooler in between. Test-side clients that set up or inspect data, hold
 * locks, or count server sessions use it; it equals TEST_DATABASE_URL in the direct pass.
 */
export const TEST_DIRECT_DATABASE_URL = process.env.TEST_DIRECT_DATABASE_URL ?? TEST_DATABASE_URL;
/** `transaction` in the pass through PgBouncer. */
export const TEST_DB_POOLER: 'none' | 'transaction' = process.env.TEST_DB_POOLER === 'transaction' ? 'transaction' : 'none';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The scratch Redis Cluster's nodes in the pass on a cluster (jest.cluster.config.ts); unset otherwise. */
export const TEST_REDIS_CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER_NODES || undefined;
