import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { QueueName } from '../config/queue-names';
import type { QueueDepth } from './depth';

/** CloudWatch namespace of the product's own metrics; alarms and autoscaling name it. */
export const METRICS_NAMESPACE = 'Agenda';

/** Metric names by depth field. Alarms and target tracking reference these names: keep them. */
export const DEPTH_METRICS: Record<keyof QueueDepth, string> = {
  waiting: 'JobsWaiting',
  delayed: 'JobsDelayed',
  active: 'JobsActive',
  failed: 'JobsFailed',
};

export interface MetricsIdentity {
  service: string;
  stage: string;
}

/**
 * Writes queue depths to stdout as CloudWatch Embedded Metric Format lines (Powertools Metrics,
 * which needs no Lambda around it): one line of totals over the queues, dimensions exactly
 * {service, stage}, the set alarms and autoscaling read, then one line per queue with
 * {service, stage, queue}. One line per dimension set, because an EMF line carries one value per
 * metric. On ECS the awslogs driver ships stdout to CloudWatch Logs, which extracts the metrics.
 */
export function publishQueueDepths(depths: Record<QueueName, QueueDepth>, who: MetricsIdentity, at = new Date()): void {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: who.service, defaultDimensions: { stage: who.stage } });
  const all = Object.values(depths);
  const total = (field: keyof QueueDepth) => all.reduce((sum, d) => sum + d[field], 0);
  const emit = (value: (field: keyof QueueDepth) => number, queue?: QueueName) => {
    if (queue) metrics.addDimension('queue', queue);
    metrics.setTimestamp(at);
    for (const [field, name] of Object.entries(DEPTH_METRICS) as [keyof QueueDepth, string][]) {
      metrics.addMetric(name, MetricUnit.Count, value(field));
    }
    metrics.publishStoredMetrics();
  };
  emit(total);
  for (const [queue, depth] of Object.entries(depths) as [QueueName, QueueDepth][]) emit((field) => depth[field], queue);
}
