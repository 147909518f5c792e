/**
 * The worker's liveness measure (worker/liveness.ts): a blocked event loop shows as lag, which
 * GET /live compares with WORKER_LIVENESS_MAX_LAG_MS; a free loop shows next to none.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoopMonitor } from '../../worker/liveness';

it('measures how long the event loop was blocked, and forgets it after two windows', async () => {
  const monitor = startLoopMonitor(400);
  try {
    await sleep(100);
    expect(monitor.lagMs()).toBeLessThan(300);
    const until = Date.now() + 600;
    while (Date.now() < until) {
      // blocks the loop, as a runaway synchronous job would
    }
    await sleep(30);
    expect(monitor.lagMs()).toBeGreaterThanOrEqual(550);
    await sleep(1_000); // two windows later
    expect(monitor.lagMs()).toBeLessThan(300);
  } finally {
    monitor.stop();
  }
});
