/**
 * Queue depths read from real queues on the real Redis and published as EMF lines
 * (lib/platform/queues/depth.ts, depth-metrics.ts, as worker/queue-metrics.ts runs them): jobs
 * waiting, prioritized, delayed, active and failed are counted where alarms and autoscaling expect them.
 */
import { Worker } from 'bullmq';
import { captureEmf } from '../support/emf';
import { useSuite } from '../support/suite';
import { until } from '../support/until';
import { TEST_REDIS_URL } from '../setup/test-env';

const { m } = useSuite({
  obliterateQueues: true,
  env: { SERVICE_NAME: 'agenda', STAGE: 'test' },
  modules: {
    queues: () => import('../../lib/platform/queues/queues'),
    depth: () => import('../../lib/platform/queues/depth'),
    metrics: () => import('../../lib/platform/queues/depth-metrics'),
    config: () => import('../../lib/platform/config'),
  },
});

const redis = new URL(TEST_REDIS_URL);
const connection = { host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null };

it('publishes what the queues hold: totals by {service, stage} and each queue by {service, stage, queue}', async () => {
  const agenda = await m.queues.getAgendaQueue();
  const webhook = await m.queues.getQueueByName('webhook');
  const notification = await m.queues.getQueueByName('notification');
  for (let i = 0; i < 3; i++) await agenda.add('system.canary', { canaryId: `waiting-${i}` });
  await agenda.add('system.canary', { canaryId: 'prioritized' }, { priority: 5 });
  await agenda.add('system.canary', { canaryId: 'delayed-1' }, { delay: 600_000 });
  await agenda.add('system.canary', { canaryId: 'delayed-2' }, { delay: 600_000 });
  for (let i = 0; i < 2; i++) await webhook.add('system.canary', { canaryId: `failing-${i}` }, { attempts: 1 });
  await notification.add('system.canary', { canaryId: 'active' });

  // Test-side consumers: one fails every webhook job for good, one holds a notification job active.
  let release = () => undefined as void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const opts = { connection, prefix: process.env.QUEUE_PREFIX };
  const failing = new Worker('webhook', async () => { throw new Error('receiver down'); }, opts);
  const holding = new Worker('notification', () => held, opts);
  try {
    await until('webhook jobs failed', () => webhook.getFailedCount(), (n) => n === 2, { timeoutMs: 15_000 });
    await until('a notification job active', () => notification.getActiveCount(), (n) => n === 1, { timeoutMs: 15_000 });
    const { service, stage } = m.config.getConfig();
    const lines = await captureEmf(async () => m.metrics.publishQueueDepths(await m.depth.readQueueDepths(), { service, stage }));

    expect(lines.map((l) => l._aws.CloudWatchMetrics[0]!.Namespace)).toEqual(Array(5).fill('Agenda'));
    const [total, ...perQueue] = lines;
    expect(total!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'stage']]);
    expect(total).toMatchObject({ service: 'agenda', stage: 'test', JobsWaiting: 4, JobsDelayed: 2, JobsActive: 1, JobsFailed: 2 });
    expect(Math.abs(total!._aws.Timestamp - Date.now())).toBeLessThan(60_000);
    const byQueue = Object.fromEntries(perQueue.map((l) => [l.queue, l]));
    expect(perQueue.every((l) => JSON.stringify(l._aws.CloudWatchMetrics[0]!.Dimensions) === '[["service","stage","queue"]]')).toBe(true);
    expect(byQueue.agenda).toMatchObject({ JobsWaiting: 4, JobsDelayed: 2, JobsActive: 0, JobsFailed: 0, service: 'agenda', stage: 'test' });
    expect(byQueue.webhook).toMatchObject({ JobsWaiting: 0, JobsDelayed: 0, JobsActive: 0, JobsFailed: 2 });
    expect(byQueue.notification).toMatchObject({ JobsWaiting: 0, JobsDelayed: 0, JobsActive: 1, JobsFailed: 0 });
    expect(byQueue.renovacao).toMatchObject({ JobsWaiting: 0, JobsDelayed: 0, JobsActive: 0, JobsFailed: 0 });
  } finally {
    release();
    await Promise.all([failing.close(), holding.close()]);
  }
});
