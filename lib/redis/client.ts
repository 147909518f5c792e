import Redis from 'ioredis';
import { getConfig, type Config } from '../config';
import { DependencyUnavailableError } from '../errors/app-error';
import { connectionName } from '../observability/container';
import { logger } from '../observability/logger';
import { isRedisConnectionError } from './errors';

/** The client and whether it passed its PING, kept together so a replaced client starts unvalidated. */
let current: { client: Redis; validated: boolean } | undefined;

/**
 * ioredis options per profile. The worker's client is what BullMQ Workers duplicate for their
 * blocking connections, so it never gets a command or socket timeout and waits for Redis
 * (`maxRetriesPerRequest: null`, which BullMQ requires), whatever the environment says.
 */
function createRedis(config: Config): Redis {
  const { redis, profile, service } = config;
  const failFast = profile !== 'worker' && redis.commandTimeoutMs > 0;
  const instance = new Redis(redis.url, {
    connectionName: connectionName(service, profile),
    lazyConnect: true,
    enableReadyCheck: true,
    enableOfflineQueue: profile === 'worker' ? true : redis.offlineQueue,
    connectTimeout: redis.connectTimeoutMs,
    commandTimeout: failFast ? redis.commandTimeoutMs : undefined,
    // A socket the network dropped silently (NAT after a freeze) never errors; with no reply in
    // this bound it is destroyed and reconnected instead of timing out every command forever.
    socketTimeout: failFast ? redis.commandTimeoutMs : undefined,
    maxRetriesPerRequest: profile === 'worker' ? null : 1,
    keepAlive: 10_000,
    retryStrategy: (times) => {
      if (redis.reconnectAttempts > 0 && times > redis.reconnectAttempts) {
        logger.warn('redis.reconnect_gave_up', { attempts: times - 1 });
        return null; // status 'end'; getRedis() reconnects on the next use
      }
      return Math.min(50 * 2 ** Math.min(times, 10), redis.maxReconnectDelayMs);
    },
  });
  instance.on('error', (err) => logger.warn('redis.error', { error: err.message }));
  instance.on('ready', () => logger.info('redis.ready'));
  instance.on('reconnecting', (delayMs: number) => logger.info('redis.reconnecting', { delayMs }));
  return instance;
}

/** The raw client for code that must not trigger a connect (health totals, closeAll). */
export function getRedisIfCreated(): Redis | undefined {
  return current?.client;
}

/**
 * The container's one ioredis client, connected, ready and validated by PING before its first use.
 * When the link is down it waits at most REDIS_READY_TIMEOUT_MS, then throws a typed 503 error,
 * so a function answers well within API Gateway's limit; a later call tries again.
 */
export async function getRedis(): Promise<Redis> {
  const config = getConfig();
  current ??= { client: createRedis(config), validated: false };
  const state = current;
  const c = state.client;
  if (isUsable(c) && state.validated) return c;
  if (c.status === 'end' || c.status === 'wait') c.connect().catch(() => undefined); // surfaces below
  try {
    await waitReady(c, config.redis.readyTimeoutMs);
    if (!state.validated) {
      const started = Date.now();
      await c.ping();
      state.validated = true;
      logger.info('redis.validated', { pingMs: Date.now() - started });
    }
    return c;
  } catch (err) {
    throw new DependencyUnavailableError('redis', `Redis unavailable: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Runs an idempotent Redis operation (a read, an add with a deterministic job id). When the link
 * turns out dead under it, typically a socket the server closed while the container was frozen,
 * it waits for the reconnect (bounded, as getRedis) and runs the operation once more, so the
 * caller does not see a fault that a reconnect already cured.
 */
export async function withRedisRetry<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (!isRedisConnectionError(err)) throw err;
    logger.info('redis.retry_after_link_loss', { error: (err as Error).message });
    await getRedis();
    return op();
  }
}

/**
 * `ready` alone is not enough: when the server closed the socket (idle timeout, CLIENT KILL,
 * failover, typically while the container was frozen) ioredis keeps status `ready` until it
 * processes the close, and without the offline queue every command fails at once. Such a client is
 * waited on (its reconnect emits `ready` again), like any other not-ready client.
 */
function isUsable(c: Redis): boolean {
  return c.status === 'ready' && c.stream?.writable === true;
}

function waitReady(c: Redis, timeoutMs: number): Promise<void> {
  if (isUsable(c)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`not ready within ${timeoutMs} ms (status ${c.status})`)), timeoutMs);
    const onReady = () => finish();
    const onEnd = () => finish(new Error('connection ended'));
    function finish(err?: Error) {
      clearTimeout(timer);
      c.off('ready', onReady);
      c.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    }
    c.on('ready', onReady);
    c.on('end', onEnd);
  });
}

/**
 * Reads the server's eviction policy. BullMQ loses jobs under any policy but `noeviction`.
 * Uses INFO rather than CONFIG GET, which managed services (ElastiCache) disable.
 */
export async function readEvictionPolicy(c: Redis): Promise<string | undefined> {
  const info = await c.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}

/** Quits the client. Only lib/lifecycle calls this. */
export async function closeRedis(): Promise<void> {
  const c = current?.client;
  current = undefined;
  if (!c) return;
  if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
  else c.disconnect();
  logger.info('redis.closed');
}
