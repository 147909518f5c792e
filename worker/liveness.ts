import { monitorEventLoopDelay } from 'node:perf_hooks';

/** How long one measuring window lasts; /live judges the worst delay of this window and the last. */
const WINDOW_MS = 10_000;

export interface LoopMonitor {
  /** The worst event-loop delay seen in the current and the previous window, in ms. */
  lagMs(): number;
  stop(): void;
}

/**
 * Measures how late the event loop runs (perf_hooks' histogram, sampled every 20 ms). A loop
 * blocked past the bound makes the liveness probe fail even on the request that arrives once it
 * is free again, so a worker that keeps hanging between probes is still replaced. Touches neither
 * PostgreSQL nor Redis: a database outage must never make a worker look dead.
 */
export function startLoopMonitor(windowMs = WINDOW_MS): LoopMonitor {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let previousMs = 0;
  const timer = setInterval(() => {
    previousMs = histogram.max / 1e6;
    histogram.reset();
  }, windowMs);
  timer.unref();
  return {
    lagMs: () => Math.max(previousMs, histogram.max / 1e6),
    stop: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
