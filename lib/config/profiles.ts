/**
 * Connection profiles. Each deployable part runs under one: API functions fail fast and keep a warm
 * connection; socket functions open the database lazily and never touch Redis; the worker container
 * holds more connections and waits through faults instead of failing.
 */
export const PROFILES = ['api', 'socket', 'worker'] as const;
export type Profile = (typeof PROFILES)[number];

/** Function defaults: fail fast, well inside API Gateway's 29 s. */
const FUNCTION_DEFAULTS: Record<string, string> = {
  DB_POOL_MAX: '2',
  DB_POOL_MIN: '1',
  DB_CONNECT_TIMEOUT_MS: '2000',
  DB_STATEMENT_TIMEOUT_MS: '10000',
  DB_IDLE_IN_TX_TIMEOUT_MS: '10000',
  DB_IDLE_TIMEOUT_MS: '60000',
  REDIS_CONNECT_TIMEOUT_MS: '1000',
  REDIS_COMMAND_TIMEOUT_MS: '1000',
  REDIS_READY_TIMEOUT_MS: '1500',
  REDIS_MAX_RECONNECT_DELAY_MS: '1000',
  REDIS_RECONNECT_ATTEMPTS: '10',
  // A request makes several Redis calls (rate limit, slot cache, publish); after one failed to get a
  // link, the others answer at once instead of each waiting REDIS_READY_TIMEOUT_MS.
  REDIS_DOWN_RETRY_AFTER_MS: '5000',
  REDIS_OFFLINE_QUEUE: 'false',
  HEALTH_CHECK_TIMEOUT_MS: '2500',
  RATE_LIMIT_POINTS: '100',
  RATE_LIMIT_DURATION_S: '10',
};

/** Defaults per profile, applied before environment overrides. Values are strings, as env would be. */
export const PROFILE_DEFAULTS: Record<Profile, Record<string, string>> = {
  api: FUNCTION_DEFAULTS,
  // One lazily opened connection: a socket message is short and rare next to an API request.
  socket: {
    ...FUNCTION_DEFAULTS,
    DB_POOL_MAX: '1',
    DB_POOL_MIN: '0',
    DB_STATEMENT_TIMEOUT_MS: '5000',
    DB_IDLE_IN_TX_TIMEOUT_MS: '5000',
    DB_IDLE_TIMEOUT_MS: '30000',
  },
  worker: {
    DB_POOL_MAX: '10',
    DB_POOL_MIN: '1',
    DB_CONNECT_TIMEOUT_MS: '10000',
    DB_STATEMENT_TIMEOUT_MS: '60000',
    DB_IDLE_IN_TX_TIMEOUT_MS: '60000',
    DB_IDLE_TIMEOUT_MS: '300000',
    REDIS_CONNECT_TIMEOUT_MS: '10000',
    REDIS_COMMAND_TIMEOUT_MS: '0',
    REDIS_READY_TIMEOUT_MS: '30000',
    REDIS_MAX_RECONNECT_DELAY_MS: '5000',
    // 15 failed reconnects in a row (about 51 s with these delays while Redis refuses connections):
    // the worker drains and exits 75 so the platform restarts it (worker/main.ts).
    REDIS_RECONNECT_ATTEMPTS: '15',
    // The worker waits for Redis; it never fails fast.
    REDIS_DOWN_RETRY_AFTER_MS: '0',
    REDIS_OFFLINE_QUEUE: 'true',
    HEALTH_CHECK_TIMEOUT_MS: '5000',
    // The worker serves no /v1 routes; the values only have to parse.
    RATE_LIMIT_POINTS: '100',
    RATE_LIMIT_DURATION_S: '10',
  },
};
