import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls a container's getRedis() until it hands out a ready link; returns how long that took. After
 * an outage a function container refuses at once (REDIS_DOWN_RETRY_AFTER_MS) until its client has
 * reconnected in the background, so a test that brings Redis back waits for this before relying on it.
 */
export async function untilRedisBack(getRedis: () => Promise<unknown>, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      await getRedis();
      return Date.now() - started;
    } catch (err) {
      last = err;
      await sleep(50);
    }
  }
  throw new Error(`Redis link not back within ${timeoutMs} ms: ${(last as Error)?.message}`);
}
