import { startRedisCluster, type ScratchCluster } from '../support/redis-cluster';
import globalSetup from './global-setup';

declare global {
  // Shared with cluster-global-teardown.ts, which runs in the same process.
  var agendaTestCluster: { cluster: ScratchCluster; commandsBefore: number[] } | undefined;
}

/** What clients send to any node to find their way (slot maps, ready checks), not to read or write keys. */
const HOUSEKEEPING = /^(cluster|info|ping|client|command|config|hello|readonly|select|quit|auth)(\||$)/;

/** Calls of key commands (GET, INCR, EVALSHA...) each node has served, from INFO commandstats. */
export async function commandsProcessed(cluster: ScratchCluster): Promise<number[]> {
  const infos = await Promise.all(cluster.ports.map((p) => cluster.cli(p, 'INFO', 'commandstats')));
  return infos.map((info) =>
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].filter(([, cmd]) => !HOUSEKEEPING.test(cmd!)).reduce((n, [, , calls]) => n + Number(calls), 0),
  );
}

/**
 * The pass on a Redis Cluster (jest.cluster.config.ts): the run's fresh database as global-setup.ts
 * makes it, then a scratch three-master cluster. Test files get its nodes as TEST_REDIS_CLUSTER_NODES,
 * which env.ts turns into REDIS_CLUSTER_NODES and a hash-tagged QUEUE_PREFIX for the product.
 */
export default async function clusterGlobalSetup(): Promise<void> {
  const started = Date.now();
  await globalSetup();
  const cluster = await startRedisCluster(3);
  globalThis.agendaTestCluster = { cluster, commandsBefore: await commandsProcessed(cluster) };
  process.env.TEST_REDIS_CLUSTER_NODES = cluster.nodesEnv;
  console.info(`\ncluster pass: Redis Cluster of 3 masters on ports ${cluster.ports.join(', ')}, ready in ${Date.now() - started} ms`);
}
