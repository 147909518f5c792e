/**
 * The Redis Cluster client's options from REDIS_CLUSTER_NODES (lib/platform/redis/options.ts): what
 * the scratch cluster of the cluster pass cannot show, TLS and credentials, the ElastiCache way.
 */
import { parseConfig } from '../../lib/platform/config';
import { clusterOptions, clusterStartupNodes } from '../../lib/platform/redis/options';

const optionsFor = (env: Record<string, string>) => clusterOptions(parseConfig(env), () => undefined);

it('takes TLS and the credentials from rediss:// node URLs and keeps host names unresolved', async () => {
  const nodes = 'rediss://app:p%40ss@clustercfg.agenda.abc123.use1.cache.amazonaws.com:6379,rediss://app:p%40ss@node-2:6380';
  const opts = optionsFor({ REDIS_CLUSTER_NODES: nodes });
  expect(opts.redisOptions).toMatchObject({ tls: {}, username: 'app', password: 'p@ss' });
  const looked = await new Promise((resolve) => opts.dnsLookup!('clustercfg.agenda.abc123.use1.cache.amazonaws.com', (_err, address) => resolve(address)));
  expect(looked).toBe('clustercfg.agenda.abc123.use1.cache.amazonaws.com');
  expect(clusterStartupNodes(parseConfig({ REDIS_CLUSTER_NODES: nodes }).redis.clusterNodes!)).toEqual([
    { host: 'clustercfg.agenda.abc123.use1.cache.amazonaws.com', port: 6379 },
    { host: 'node-2', port: 6380 },
  ]);
});

it('uses neither TLS nor a custom lookup for redis:// nodes, and defaults the port', () => {
  const opts = optionsFor({ REDIS_CLUSTER_NODES: 'redis://10.0.0.1,redis://[::1]:7001' });
  expect(opts.redisOptions).not.toHaveProperty('tls');
  expect(opts.redisOptions).not.toHaveProperty('password');
  expect(opts.dnsLookup).toBeUndefined();
  expect(clusterStartupNodes(['redis://10.0.0.1', 'redis://[::1]:7001'])).toEqual([{ host: '10.0.0.1', port: 6379 }, { host: '::1', port: 7001 }]);
});

it('gives the worker waiting options and functions fail-fast ones, per node', () => {
  const nodes = { REDIS_CLUSTER_NODES: 'redis://n1:7000' };
  expect(optionsFor({ ...nodes, AGENDA_PROFILE: 'worker', REDIS_COMMAND_TIMEOUT_MS: '500' })).toMatchObject({
    enableOfflineQueue: true,
    redisOptions: { maxRetriesPerRequest: null, commandTimeout: undefined, socketTimeout: undefined },
  });
  expect(optionsFor({ ...nodes, AGENDA_PROFILE: 'api' })).toMatchObject({
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 1000, socketTimeout: 1000 },
  });
});

it('gives up after REDIS_RECONNECT_ATTEMPTS failed reconnects and tells the listener', async () => {
  let told = 0;
  const opts = clusterOptions(parseConfig({ REDIS_CLUSTER_NODES: 'redis://n1:7000', REDIS_RECONNECT_ATTEMPTS: '2' }), () => (told += 1));
  expect([1, 2].map((n) => opts.clusterRetryStrategy!(n))).toEqual([100, 200]);
  expect(opts.clusterRetryStrategy!(3)).toBeNull();
  await new Promise((resolve) => setImmediate(resolve));
  expect(told).toBe(1);
});
