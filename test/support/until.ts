import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  timeoutMs?: number;
  everyMs?: number;
  /** More to say on timeout, e.g. the recent output of the processes under test. */
  context?: () => string;
}

/**
 * Polls `read` until `ok` holds and returns that value; on timeout fails with what was last seen.
 * For outcomes that other processes produce in their own time (a worker, serverless-offline).
 */
export async function until<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, opts: UntilOptions = {}): Promise<T> {
  const { timeoutMs = 60_000, everyMs = 200, context } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not seen within ${timeoutMs} ms; last: ${JSON.stringify(v)?.slice(0, 800)}${context ? `\n${context()}` : ''}`);
    }
    await sleep(everyMs);
  }
}
