import { getConfig, type Config } from '../config';
import { DependencyUnavailableError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { isRedisConnectionError, RedisMarkedDownError } from '../errors/redis-link';
import type { RedisLink } from './link';
import { clusterOptions, clusterStartupNodes, singleNodeOptions } from './options';
import { isUsable, waitReady } from './readiness';

export type { RedisLink } from './link';

/** The client and whether it passed its PING, kept together so a replaced client starts unvalidated. */
let current: { client: RedisLink; validated: boolean } | undefined;

/**
 * Function profiles: until this time getRedis() refuses at once (RedisMarkedDownError) instead of
 * waiting for a link that just failed to come up; 0 when Redis is not known to be down. A request
 * uses Redis several times (rate limit, slot cache, publish): without it an outage would cost each
 * use REDIS_READY_TIMEOUT_MS. The worker never sets it: it waits.
 */
let downUntil = 0;

/** Called when a client (the shared one or a copy, such as BullMQ's blocking connections) stops reconnecting. */
const gaveUpListeners = new Set<() => void>();
const gaveUp = () => gaveUpListeners.forEach((listener) => listener());

/**
 * The one place a Redis client is made: a Redis Cluster client when REDIS_CLUSTER_NODES is set
 * (REDIS_URL is then ignored), a single-node client otherwise; options per profile in ./options.
 */
function createRedis(Redis: typeof import('ioredis').default, config: Config): RedisLink {
  const nodes = config.redis.clusterNodes;
  const instance: RedisLink = nodes
    ? new Redis.Cluster(clusterStartupNodes(nodes), clusterOptions(config, gaveUp))
    : new Redis(config.redis.url, singleNodeOptions(config, gaveUp));
  instance.on('error', (err: Error) => logger.warn('redis.error', { error: err.message }));
  instance.on('ready', () => logger.info('redis.ready', { cluster: instance.isCluster }));
  instance.on('reconnecting', (delayMs: number) => logger.info('redis.reconnecting', { delayMs }));
  // A cluster reports a failing server here (its 'error' is for the client as a whole).
  instance.on('node error', (err: Error, address: string) => logger.warn('redis.node_error', { address, error: err.message }));
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
export function getRedisIfCreated(): RedisLink | undefined {
  return current?.client;
}

/** How one getRedis() call waits for a link. */
export interface RedisWait {
  /** The most this call waits for a ready link; REDIS_READY_TIMEOUT_MS by default. */
  waitMs?: number;
  /**
   * A later attempt of one bounded sequence (lib/platform/queues) whose first attempt passed the "down"
   * check: it waits even though that first attempt's failure has just set it.
   */
  retrying?: boolean;
}

/**
 * The container's one ioredis client (or Redis Cluster client), connected, ready and validated by
 * PING before its first use.
 * When the link is down it waits at most REDIS_READY_TIMEOUT_MS, then throws a typed 503 error,
 * so a function answers well within API Gateway's limit. In function profiles that failure is
 * remembered for REDIS_DOWN_RETRY_AFTER_MS: calls meanwhile throw at once (the client keeps
 * reconnecting in the background, and a link that is ready again is used at once); after it, one
 * caller waits again, bounded, while the others still fail fast.
 */
export async function getRedis(wait: RedisWait = {}): Promise<RedisLink> {
  const config = getConfig();
  if (!current) {
    // ioredis is loaded at the first use of Redis, not when a function's code is imported. Its
    // default export, the class with Cluster on it: in a bundled ES module the CommonJS package's
    // named exports are not there.
    const { default: Redis } = await import('ioredis');
    current ??= { client: createRedis(Redis, config), validated: false };
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
function linkBack(c: RedisLink): RedisLink {
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

/** Quits the client. Only lib/platform/lifecycle calls this. */
export async function closeRedis(): Promise<void> {
  const c = current?.client;
  current = undefined;
  downUntil = 0; // the next client starts with no memory of this one's outage
  if (!c) return;
  if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
  else c.disconnect();
  logger.info('redis.closed');
}
