import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import type { Config } from '../config';
import { connectionName } from '../observability/container';
import { logger } from '../observability/logger';

type RetryStrategy = (times: number) => number | null;

/**
 * Reconnect delays, and the give-up after REDIS_RECONNECT_ATTEMPTS failed attempts in a row
 * (`times` counts from the last ready link: ioredis resets it on ready). `onGiveUp` runs after
 * the client has ended.
 */
function retryStrategy({ redis }: Config, onGiveUp: () => void): RetryStrategy {
  return (times) => {
    if (redis.reconnectAttempts > 0 && times > redis.reconnectAttempts) {
      logger.warn('redis.reconnect_gave_up', { attempts: times - 1 });
      setImmediate(onGiveUp);
      return null; // status 'end'; getRedis() reconnects on the next use
    }
    return Math.min(50 * 2 ** Math.min(times, 10), redis.maxReconnectDelayMs);
  };
}

/**
 * Per-profile options of each server connection. The worker's client is what BullMQ Workers
 * duplicate for their blocking connections, so it never gets a command or socket timeout and waits
 * for Redis (`maxRetriesPerRequest: null`, which BullMQ requires), whatever the environment says.
 */
function perProfile({ redis, profile, service }: Config) {
  const failFast = profile !== 'worker' && redis.commandTimeoutMs > 0;
  return {
    connectionName: connectionName(service, profile),
    connectTimeout: redis.connectTimeoutMs,
    commandTimeout: failFast ? redis.commandTimeoutMs : undefined,
    // A socket the network dropped silently (NAT after a freeze) never errors; with no reply in
    // this bound it is destroyed and reconnected instead of timing out every command forever.
    socketTimeout: failFast ? redis.commandTimeoutMs : undefined,
    maxRetriesPerRequest: profile === 'worker' ? null : 1,
    keepAlive: 10_000,
  } satisfies RedisOptions;
}

/** Whether commands wait in ioredis's offline queue while disconnected (always in the worker). */
const offlineQueue = ({ redis, profile }: Config) => (profile === 'worker' ? true : redis.offlineQueue);

/** One server (REDIS_URL, which carries auth and TLS). Its copies share `retryStrategy`, so they give up too. */
export function singleNodeOptions(config: Config, onGiveUp: () => void): RedisOptions {
  return {
    ...perProfile(config),
    lazyConnect: true,
    enableReadyCheck: true,
    enableOfflineQueue: offlineQueue(config),
    retryStrategy: retryStrategy(config, onGiveUp),
  };
}

/** REDIS_CLUSTER_NODES as ioredis's startup nodes: the client discovers the others from them. */
export function clusterStartupNodes(urls: readonly string[]): ClusterNode[] {
  return urls.map((u) => {
    const { hostname, port } = new URL(u);
    return { host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port || 6379) };
  });
}

/**
 * A Redis Cluster: the same per-profile behaviour, each server connection configured through
 * `redisOptions`, auth from the first node URL (a cluster has one set of users), TLS for
 * `rediss://`. The client as a whole reconnects and gives up by `clusterRetryStrategy`; its
 * duplicates (BullMQ's blocking connections) share it, as on a single node.
 */
export function clusterOptions(config: Config, onGiveUp: () => void): ClusterOptions {
  const first = new URL(config.redis.clusterNodes![0]!);
  const tls = first.protocol === 'rediss:';
  return {
    lazyConnect: true,
    enableReadyCheck: true,
    enableOfflineQueue: offlineQueue(config),
    clusterRetryStrategy: retryStrategy(config, onGiveUp),
    slotsRefreshTimeout: config.redis.connectTimeoutMs,
    redisOptions: {
      ...perProfile(config),
      ...(first.username && { username: decodeURIComponent(first.username) }),
      ...(first.password && { password: decodeURIComponent(first.password) }),
      ...(tls && { tls: {} }),
    },
    // ElastiCache with in-transit encryption: its certificates name the cluster's DNS names, while
    // ioredis would resolve every node name to an IP and connect (and check the certificate) by
    // IP, which fails. Handing the name back unresolved keeps TLS on the name the certificate covers.
    ...(tls && { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) }),
  };
}
