/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';
import base from './jest.config';

/**
 * The third pass of `npm test`: suites that use queues (outbox, delayed reminders, worker consumers,
 * the job Lambda), the rate limit and the slot cache, run unchanged on a scratch three-master Redis
 * Cluster (test/setup/cluster-global-setup.ts), with REDIS_CLUSTER_NODES and a hash-tagged
 * QUEUE_PREFIX per file (test/setup/env.ts), plus redis-cluster.test.ts for what only a cluster shows.
 *
 * Left out: suites that start their own redis-servers or TCP proxies, point REDIS_URL elsewhere to
 * fake an outage, or read keys through a client of their own on one server (outbox, notifications,
 * outbox-redrive, rate-limit, slots, redis-*, renewal-slot, dependency-down, thaw, warm-reuse), and
 * those that use no Redis at all.
 */
export const CLUSTER_SUITES = [
  'redis-cluster', 'appointments', 'bad-input-corpus', 'control-expiry', 'edge-middlewares', 'edge-order',
  'in-app-live', 'job-outcome', 'no-show', 'professionals', 'reminder-offsets', 'renewals', 'socket-lifecycle',
  'webhook-operations', 'webhook-worker', 'webhooks',
];

const config: Config = {
  ...base,
  testMatch: CLUSTER_SUITES.map((name) => `<rootDir>/test/integration/${name}.test.ts`),
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/setup/cluster-global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/cluster-global-teardown.ts',
};

export default config;
