import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { getConfig } from '../config';
import { DependencyUnavailableError, RateLimitedError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { getRedis } from '../redis/client';

/** What a caller has left in the current window, for `RateLimit-*` response headers. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * The container's in-memory insurance limiter (same points and window): it counts whatever the
 * Redis limiter cannot, so an outage keeps a limit, per container, instead of refusing every request.
 */
let insurance: RateLimiterMemory | undefined;

function insuranceLimiter(): RateLimiterMemory {
  const { points, durationSeconds, keyPrefix } = getConfig().rateLimit;
  insurance ??= new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds });
  return insurance;
}

/** One limiter per Redis client: a container that replaced its client (closeAll) gets a new one. */
let current: { client: Redis; limiter: RateLimiterRedis } | undefined;

function limiterFor(client: Redis): RateLimiterRedis {
  if (current?.client === client) return current.limiter;
  const { points, durationSeconds, keyPrefix } = getConfig().rateLimit;
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix,
    points,
    duration: durationSeconds,
    // A client that is not ready, or a command that fails, is counted by the insurance limiter.
    rejectIfRedisNotReady: true,
    insuranceLimiter: insuranceLimiter(),
  });
  current = { client, limiter };
  return limiter;
}

/**
 * The limiter to count with: Redis's, shared by every container, or the insurance limiter when
 * Redis cannot be reached within its bound (at once while it is remembered down).
 */
async function pickLimiter(): Promise<RateLimiterAbstract> {
  try {
    return limiterFor(await getRedis());
  } catch (err) {
    if (!(err instanceof DependencyUnavailableError)) throw err;
    logger.info('rate_limit.in_memory', { reason: err.message });
    return insuranceLimiter();
  }
}

/**
 * Spends one request of the API key's budget (RATE_LIMIT_POINTS per RATE_LIMIT_DURATION_S),
 * counted in Redis so every container shares it. Over budget: 429 with Retry-After. While Redis is
 * unreachable or failing, rate-limiter-flexible's insurance limiter counts the same budget in this
 * container's memory: the limit holds per container (N warm containers allow up to N times the
 * budget) rather than refusing every request. The consume is not retried after a link failure:
 * it may have counted.
 */
export async function consumeRateLimit(apiKeyId: string): Promise<RateLimitState | undefined> {
  const { points, durationSeconds } = getConfig().rateLimit;
  if (points === 0) return undefined;
  const limiter = await pickLimiter();
  try {
    const res = await limiter.consume(apiKeyId, 1);
    return { limit: points, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      logger.info('rate_limit.exceeded', { apiKeyId, retryAfter });
      throw new RateLimitedError('Too many requests for this API key; retry later', retryAfter, {
        limit: points,
        windowSeconds: durationSeconds,
        retryAfterSeconds: retryAfter,
      });
    }
    // Only an error of the insurance limiter itself gets here: nothing counted the request.
    throw new DependencyUnavailableError('redis', `Rate limiter unavailable: ${(err as Error).message}`, { cause: err });
  }
}

/** `RateLimit-*` headers (IETF draft names) for a successful response. */
export function rateLimitHeaders(state: RateLimitState | undefined): Record<string, string> {
  if (!state) return {};
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'RateLimit-Reset': String(state.resetSeconds),
  };
}
