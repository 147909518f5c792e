import type { Config } from '../lib/platform/config';
import { logger } from '../lib/platform/observability/logger';
import { readQueueDepths } from '../lib/platform/queues/depth';
import { METRICS_NAMESPACE, publishQueueDepths } from '../lib/platform/queues/depth-metrics';

/**
 * Publishes queue depths every WORKER_METRICS_EVERY_MS (0: never). Every worker publishes: the
 * depths are the queues', so replicas write the same values in the same minute, which alarms on
 * Maximum and target tracking on Average both read as one. A failed read (Redis down) skips a
 * beat and is logged; CloudWatch then sees missing data, which the alarms treat as they are told.
 */
export function startQueueMetrics(config: Config): { stop(): void } {
  const everyMs = config.worker.metricsEveryMs;
  if (everyMs === 0) return { stop: () => undefined };
  const who = { service: config.service, stage: config.stage };
  let running = false;
  const tick = async () => {
    if (running) return; // a slow Redis must not stack reads
    running = true;
    try {
      publishQueueDepths(await readQueueDepths(), who);
    } catch (err) {
      logger.warn('worker.metrics_failed', { error: (err as Error).message });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  void tick();
  logger.info('worker.metrics_started', { everyMs, namespace: METRICS_NAMESPACE, serviceName: who.service, stage: who.stage });
  return { stop: () => clearInterval(timer) };
}
