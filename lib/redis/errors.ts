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
