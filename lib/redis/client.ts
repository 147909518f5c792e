import type Redis from 'ioredis';
import { getConfig, type Config } from '../config';
import { DependencyUnavailableError } from '../errors/app-error';
import { connectionName } from '../observability/container';
import { logger } from '../observability/logger';
import { isRedisConnectionError, RedisMarkedDownError } from './errors';

/** The client and whether it passed its PING, kept together so a replaced client starts unvalidated. */
let current: { client: Redis; validated: boolean } | undefined;

/**
 * Function profiles: until this time getRedis() refuses at once (RedisMarkedDownError) instead of
 * waiting for a link that just failed to come up; 0 when Redis is not known to be down. A request
 * uses Redis several times (rate limit, slot cache, publish): without it an outage would cost each
 * use REDIS_READY_TIMEOUT_MS. The worker never sets it: it waits.
 */
let downUntil = 0;

/** Called when a client (the shared one or a copy, such as BullMQ's blocking connections) stops reconnecting. */
const gaveUpListeners = new Set<() => void>();

/**
 * ioredis options per profile. The worker's client is what BullMQ Workers duplicate for their
 * blocking connections, so it never gets a command or socket timeout and waits for Redis
 * (`maxRetriesPerRequest: null`, which BullMQ requires), whatever the environment says. The
 * duplicates share `retryStrategy`, so each of them gives up (and tells the listeners) too.
 */
function createRedis(RedisClient: typeof Redis, config: Config): Redis {
  const { redis, profile, service } = config;
  const failFast = profile !== 'worker' && redis.commandTimeoutMs > 0;
  const instance = new RedisClient(redis.url, {
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
    // `times` counts failed attempts since the last ready link (ioredis resets it on ready).
    retryStrategy: (times) => {
      if (redis.reconnectAttempts > 0 && times > redis.reconnectAttempts) {
        logger.warn('redis.reconnect_gave_up', { attempts: times - 1 });
        setImmediate(() => gaveUpListeners.forEach((listener) => listener()));
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

/**
 * Registers a listener for a client giving up after REDIS_RECONNECT_ATTEMPTS failed reconnects in a
 * row. The worker exits on it (a BullMQ Worker never revives a connection that ended); functions
 * need not listen: their next getRedis() connects again. Returns the unsubscribe function.
 */
export function onRedisReconnectGaveUp(listener: () => void): () => void {
  gaveUpListeners.add(listener);
  return () => gaveUpListeners.delete(listener);
}

/** The raw client for code that must not trigger a connect (health totals, closeAll). */
export function getRedisIfCreated(): Redis | undefined {
  return current?.client;
}

/** How one getRedis() call waits for a link. */
export interface RedisWait {
  /** The most this call waits for a ready link; REDIS_READY_TIMEOUT_MS by default. */
  waitMs?: number;
  /**
   * A later attempt of one bounded sequence (lib/queues) whose first attempt passed the "down"
   * check: it waits even though that first attempt's failure has just set it.
   */
  retrying?: boolean;
}

/**
 * The container's one ioredis client, connected, ready and validated by PING before its first use.
 * When the link is down it waits at most REDIS_READY_TIMEOUT_MS, then throws a typed 503 error,
 * so a function answers well within API Gateway's limit. In function profiles that failure is
 * remembered for REDIS_DOWN_RETRY_AFTER_MS: calls meanwhile throw at once (the client keeps
 * reconnecting in the background, and a link that is ready again is used at once); after it, one
 * caller waits again, bounded, while the others still fail fast.
 */
export async function getRedis(wait: RedisWait = {}): Promise<Redis> {
  const config = getConfig();
  if (!current) {
    // ioredis is loaded at the first use of Redis, not when a function's code is imported.
    const { default: RedisClient } = await import('ioredis');
    current ??= { client: createRedis(RedisClient, config), validated: false };
  }
  const state = current;
  const c = state.client;
  if (isUsable(c) && state.validated) return linkBack(c);
  if (c.status === 'end' || c.status === 'wait') c.connect().catch(() => undefined); // surfaces below, or on a later call
  const waitMs = wait.waitMs ?? config.redis.readyTimeoutMs;
  const remembers = config.profile !== 'worker' && config.redis.downRetryAfterMs > 0;
  if (remembers && !wait.retrying && !isUsable(c)) {
    const now = Date.now();
    if (now < downUntil) throw new RedisMarkedDownError(downUntil - now);
    // The window is over: this caller tries again; others keep failing fast while it waits.
    if (downUntil !== 0) downUntil = now + waitMs;
  }
  try {
    await waitReady(c, waitMs);
    if (!state.validated) {
      const started = Date.now();
      await c.ping();
      state.validated = true;
      logger.info('redis.validated', { pingMs: Date.now() - started });
    }
    return linkBack(c);
  } catch (err) {
    if (remembers) {
      if (downUntil === 0) logger.warn('redis.marked_down', { retryAfterMs: config.redis.downRetryAfterMs });
      downUntil = Date.now() + config.redis.downRetryAfterMs;
    }
    throw new DependencyUnavailableError('redis', `Redis unavailable: ${(err as Error).message}`, { cause: err });
  }
}

/** A ready link: whatever outage was remembered is over. */
function linkBack(c: Redis): Redis {
  if (downUntil !== 0) logger.info('redis.back');
  downUntil = 0;
  return c;
}

/** True while getRedis() refuses at once (function profiles, shortly after a failed wait for a link). */
export function isRedisMarkedDown(): boolean {
  return Date.now() < downUntil;
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
  downUntil = 0; // the next client starts with no memory of this one's outage
  if (!c) return;
  if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
  else c.disconnect();
  logger.info('redis.closed');
}
