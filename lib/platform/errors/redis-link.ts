import { DependencyUnavailableError } from './app-error';

/** ioredis and BullMQ messages that mean the link to Redis failed, not the command itself. */
const LINK_FAILURES = [
  /Command timed out/i,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /Reached the max retries per request limit/i,
  /Socket timeout/i,
  /\bECONNREFUSED\b/,
  /\bECONNRESET\b/,
  /\bETIMEDOUT\b/,
];

/** True when an error from Redis (or BullMQ on it) is about the connection, so a 503 fits. */
export function isRedisConnectionError(err: unknown): boolean {
  return err instanceof Error && LINK_FAILURES.some((re) => re.test(err.message));
}

/**
 * Redis could not give a ready link moments ago (function profiles): the call is refused at once
 * rather than waiting REDIS_READY_TIMEOUT_MS again, until REDIS_DOWN_RETRY_AFTER_MS has passed.
 * Still the 503 that names Redis, so callers treat it like any other unavailable link.
 */
export class RedisMarkedDownError extends DependencyUnavailableError {
  constructor(retryInMs: number) {
    super('redis', `Redis unavailable (no link moments ago; next try in ${retryInMs} ms)`);
  }
}
