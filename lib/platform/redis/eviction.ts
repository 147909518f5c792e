import { addressOf, isCluster, mastersOf, type RedisLink } from './link';

const policyIn = (info: string) => /^maxmemory_policy:(\S+)/m.exec(info)?.[1];

/**
 * Reads the server's eviction policy. BullMQ loses jobs under any policy but `noeviction`.
 * Uses INFO rather than CONFIG GET, which managed services (ElastiCache) disable. On a cluster
 * every master is asked, since each holds its own share of the keys under its own setting: the
 * answer is `noeviction` only when all of them say so, else the first other policy and where.
 */
export async function readEvictionPolicy(c: RedisLink): Promise<string | undefined> {
  const masters = mastersOf(c);
  if (masters.length === 0) throw new Error('no Redis Cluster master known yet');
  const policies = await Promise.all(masters.map(async (node) => ({ node, policy: policyIn(await node.info('memory')) })));
  const unsafe = policies.find((p) => p.policy !== 'noeviction');
  if (!unsafe) return 'noeviction';
  return isCluster(c) ? `${unsafe.policy ?? 'unknown'} on ${addressOf(unsafe.node)}` : unsafe.policy;
}
