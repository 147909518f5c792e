/**
 * The queue-depth metrics as CloudWatch reads them (lib/platform/queues/depth-metrics.ts): the names,
 * namespace and dimension sets that the deployment's alarms and autoscaling reference, exactly.
 */
import { publishQueueDepths } from '../../lib/platform/queues/depth-metrics';
import { captureEmf } from '../support/emf';

const depths = {
  agenda: { waiting: 3, delayed: 2, active: 1, failed: 0 },
  webhook: { waiting: 0, delayed: 4, active: 0, failed: 7 },
  notification: { waiting: 5, delayed: 0, active: 2, failed: 1 },
  renovacao: { waiting: 0, delayed: 1, active: 0, failed: 0 },
};
const at = new Date('2026-12-01T10:00:00Z');

it('writes the totals with dimensions {service, stage}, then one line per queue with {service, stage, queue}', async () => {
  const lines = await captureEmf(() => publishQueueDepths(depths, { service: 'agenda', stage: 'prod' }, at));
  expect(lines).toHaveLength(5);
  const [total, ...perQueue] = lines;
  const metrics = [
    { Name: 'JobsWaiting', Unit: 'Count' },
    { Name: 'JobsDelayed', Unit: 'Count' },
    { Name: 'JobsActive', Unit: 'Count' },
    { Name: 'JobsFailed', Unit: 'Count' },
  ];
  expect(total).toEqual({
    _aws: { Timestamp: at.getTime(), CloudWatchMetrics: [{ Namespace: 'Agenda', Dimensions: [['service', 'stage']], Metrics: metrics }] },
    service: 'agenda',
    stage: 'prod',
    JobsWaiting: 8,
    JobsDelayed: 7,
    JobsActive: 3,
    JobsFailed: 8,
  });
  expect(perQueue.map((l) => l._aws.CloudWatchMetrics[0]!.Dimensions)).toEqual(Array(4).fill([['service', 'stage', 'queue']]));
  expect(perQueue.map(({ queue, JobsWaiting, JobsDelayed, JobsActive, JobsFailed, service, stage }) => ({ queue, service, stage, JobsWaiting, JobsDelayed, JobsActive, JobsFailed }))).toEqual(
    Object.entries(depths).map(([queue, d]) => ({
      queue,
      service: 'agenda',
      stage: 'prod',
      JobsWaiting: d.waiting,
      JobsDelayed: d.delayed,
      JobsActive: d.active,
      JobsFailed: d.failed,
    })),
  );
});
