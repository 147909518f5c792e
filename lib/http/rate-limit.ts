import type Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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
    // A client that is not ready is a rejection (turned into a 503 below), never a pass.
    rejectIfRedisNotReady: true,
  });
  current = { client, limiter };
  return limiter;
}

/**
 * Spends one request of the API key's budget (RATE_LIMIT_POINTS per RATE_LIMIT_DURATION_S),
 * counted in Redis so every container shares it. Over budget: 429 with Retry-After. Redis
 * unreachable or failing: 503, never a pass (the limiter fails closed; no in-memory insurance
 * limiter, which would multiply the budget by the number of containers). The consume is not
 * retried after a link failure: it may have counted.
 */
export async function consumeRateLimit(apiKeyId: string): Promise<RateLimitState | undefined> {
  const { points } = getConfig().rateLimit;
  if (points === 0) return undefined;
  const client = await getRedis(); // 503 when Redis cannot be reached within its bound
  try {
    const res = await limiterFor(client).consume(apiKeyId, 1);
    return { limit: points, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      logger.info('rate_limit.exceeded', { apiKeyId, retryAfter });
      throw new RateLimitedError('Too many requests for this API key; retry later', retryAfter, {
        limit: points,
        windowSeconds: getConfig().rateLimit.durationSeconds,
        retryAfterSeconds: retryAfter,
      });
    }
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
