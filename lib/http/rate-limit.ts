import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { getConfig } from '../platform/config';
import { DependencyUnavailableError, RateLimitedError } from '../platform/errors/app-error';
import { logger } from '../platform/observability/logger';
import { getRedis, type RedisLink } from '../platform/redis/client';

/** What a caller has left in the current window, for `RateLimit-*` response headers. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/**
 * The two budgets a /v1 request spends: its API key's (RATE_LIMIT_POINTS) and its clinic's, all
 * keys together (RATE_LIMIT_CLINIC_POINTS), so minting more keys never multiplies what a clinic
 * may send. Each is one counter per id, a single Redis key (`<prefix>:<key id>`,
 * `<prefix>:clinic:<clinic id>`): every operation touches one key, as Redis Cluster requires.
 */
export type Budget = 'key' | 'clinic';

/** Who spends: the key, and the clinic it belongs to. */
export interface RateLimitSubject {
  apiKeyId: string;
  clinicId: string;
}

function settings(budget: Budget) {
  const { points, clinicPoints, durationSeconds, keyPrefix } = getConfig().rateLimit;
  return budget === 'key'
    ? { points, duration: durationSeconds, keyPrefix }
    : { points: clinicPoints, duration: durationSeconds, keyPrefix: `${keyPrefix}:clinic` };
}

/**
 * The container's in-memory insurance limiters (same points and window, one per budget): they
 * count whatever the Redis limiters cannot, so an outage keeps both limits, per container, instead
 * of refusing every request.
 */
const insurance: Partial<Record<Budget, RateLimiterMemory>> = {};

function insuranceLimiter(budget: Budget): RateLimiterMemory {
  insurance[budget] ??= new RateLimiterMemory(settings(budget));
  return insurance[budget];
}

/** The limiters of one Redis client: a container that replaced its client (closeAll) gets new ones. */
let current: { client: RedisLink; limiters: Record<Budget, RateLimiterRedis> } | undefined;

function redisLimiter(budget: Budget): (client: RedisLink) => RateLimiterRedis {
  return (client) =>
    new RateLimiterRedis({
      storeClient: client,
      ...settings(budget),
      // A client that is not ready, or a command that fails, is counted by the insurance limiter.
      rejectIfRedisNotReady: true,
      insuranceLimiter: insuranceLimiter(budget),
    });
}

/**
 * The limiters to count with: Redis's, shared by every container, or the insurance limiters when
 * Redis cannot be reached within its bound (at once while it is remembered down).
 */
async function pickLimiters(): Promise<Record<Budget, RateLimiterAbstract>> {
  try {
    const client = await getRedis();
    if (current?.client !== client) current = { client, limiters: { key: redisLimiter('key')(client), clinic: redisLimiter('clinic')(client) } };
    return current.limiters;
  } catch (err) {
    if (!(err instanceof DependencyUnavailableError)) throw err;
    logger.info('rate_limit.in_memory', { reason: err.message });
    return { key: insuranceLimiter('key'), clinic: insuranceLimiter('clinic') };
  }
}

/** Spends one point of one budget; undefined when that budget is off (0 points). */
async function spend(limiter: RateLimiterAbstract, budget: Budget, id: string, subject: RateLimitSubject): Promise<RateLimitState | undefined> {
  const { points, duration } = settings(budget);
  if (points === 0) return undefined;
  try {
    const res = await limiter.consume(id, 1);
    return { limit: points, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      logger.info('rate_limit.exceeded', { budget, ...subject, retryAfter });
      const whose = budget === 'key' ? 'this API key' : "this clinic's API keys together";
      throw new RateLimitedError(`Too many requests for ${whose}; retry later`, retryAfter, {
        budget,
        reason: `rate_limited_${budget}`,
        limit: points,
        windowSeconds: duration,
        retryAfterSeconds: retryAfter,
      });
    }
    // Only an error of the insurance limiter itself gets here: nothing counted the request.
    throw new DependencyUnavailableError('redis', `Rate limiter unavailable: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Spends one request of the key's budget, then one of its clinic's (each per RATE_LIMIT_DURATION_S),
 * counted in Redis so every container shares them. Over either: 429 with Retry-After, and
 * `details.budget` says which. The key's comes first, so a key past its own budget does not drain
 * what its clinic's other keys share. While Redis is unreachable or failing, rate-limiter-flexible's
 * insurance limiters count both budgets in this container's memory: the limits hold per container
 * (N warm containers allow up to N times each) rather than refusing every request. A consume is not
 * retried after a link failure: it may have counted. Returns the tighter of the two states.
 */
export async function consumeRateLimit(subject: RateLimitSubject): Promise<RateLimitState | undefined> {
  const { points, clinicPoints } = getConfig().rateLimit;
  if (points === 0 && clinicPoints === 0) return undefined; // both off: Redis is not asked at all
  const limiters = await pickLimiters();
  const key = await spend(limiters.key, 'key', subject.apiKeyId, subject);
  const clinic = await spend(limiters.clinic, 'clinic', subject.clinicId, subject);
  if (!key || !clinic) return key ?? clinic;
  return clinic.remaining < key.remaining ? clinic : key;
}

/** `RateLimit-*` headers (IETF draft names), so a well-behaved client can slow down before a 429. */
export function rateLimitHeaders(state: RateLimitState | undefined): Record<string, string> {
  if (!state) return {};
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'RateLimit-Reset': String(state.resetSeconds),
  };
}
