import Redis from 'ioredis';
import { Queue } from 'bullmq';

/**
 * A bench-owned Redis client, outside the product's getters on purpose: fixtures, server readings
 * and the raw BullMQ baselines. The name makes its connections countable in CLIENT LIST.
 * `maxRetriesPerRequest: null` is what BullMQ asks of a connection a Worker duplicates.
 */
export async function openBenchRedis(url: string, connectionName: string): Promise<Redis> {
  const client = new Redis(url, { connectionName, lazyConnect: true, maxRetriesPerRequest: null });
  client.on('error', () => undefined); // surfaces on the next command
  await client.connect();
  return client;
}

/** The names of the server's current client connections (CLIENT LIST), one per connection. */
export async function clientNames(redis: Redis): Promise<string[]> {
  const list = String(await redis.call('CLIENT', 'LIST'));
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '');
}

/** How many current connections match: by exact name, or by a BullMQ prefix (`<prefix>:...`, its blocking connections). */
export async function countClients(redis: Redis, match: { names?: string[]; prefixes?: string[] }): Promise<number> {
  const names = await clientNames(redis);
  return names.filter((n) => match.names?.includes(n) || match.prefixes?.some((p) => n.startsWith(`${p}:`))).length;
}

/**
 * Removes bench queues: BullMQ's obliterate (forced: active jobs too), then any key still under
 * `<prefix>:<queue>:` (a worker's stalled-check marker, say). Only for bench-owned prefixes.
 * Returns the keys the sweep had to delete.
 */
export async function removeBenchQueues(redis: Redis, prefix: string, names: readonly string[]): Promise<number> {
  let swept = 0;
  for (const name of names) {
    const queue = new Queue(name, { connection: redis, prefix });
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:${name}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) swept += await redis.del(...keys);
    } while (cursor !== '0');
  }
  return swept;
}
