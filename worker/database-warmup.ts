import { getDb } from '../lib/platform/db/client';
import { logger } from '../lib/platform/observability/logger';

/**
 * The database's start-up check (connect with bounded retries, then one Prisma query so the query
 * compiler is loaded before the first job), run beside the consumers rather than before them: a
 * database that is down at start-up leaves a worker that is alive and not ready (GET /ready names
 * it), whose jobs fail and retry on their queues' schedules, instead of a worker that exits and is
 * restarted in a loop. Tries again every `retryMs` until it succeeds or the worker stops.
 */
export function warmDatabase(retryMs = 5_000): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = () =>
    getDb().then(
      () => logger.info('worker.database_ready'),
      (err: Error) => {
        if (stopped) return;
        logger.warn('worker.database_unavailable', { error: err.message, retryInMs: retryMs });
        timer = setTimeout(() => void attempt(), retryMs);
        timer.unref();
      },
    );
  void attempt();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
