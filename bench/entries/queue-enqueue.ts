import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { getConfig } from '../../lib/platform/config';
import { connectionName } from '../../lib/platform/observability/container';
import { DEFAULT_JOB_OPTIONS } from '../../lib/platform/queues/jobs';
import { getAgendaQueue } from '../../lib/platform/queues/queues';
import { getRedis } from '../../lib/platform/redis/client';
import { benchQueuePrefix } from '../support/bench-env';
import { envInt } from '../support/env';
import { countClients, openBenchRedis, removeBenchQueues } from '../support/redis-clients';
import { ms, ratio, summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

const RAW_CLIENT_NAME = 'agenda-bench-raw-queue';
const CONTROL_CLIENT_NAME = 'agenda-bench-control';

interface Variant {
  label: string;
  add: (eventId: string) => Promise<unknown>;
  samples: number[];
  /** Connections of this variant (by client name) before its first add and after its last. */
  conns: { before: number; after: number };
}

async function run(): Promise<BenchResult> {
  const n = envInt('BENCH_ENQ_N', 5000);
  const blockSize = envInt('BENCH_ENQ_BLOCK', 100);
  const warmup = envInt('BENCH_ENQ_WARMUP', 100);
  const config = getConfig();
  const prefix = benchQueuePrefix(config);
  const control = await openBenchRedis(config.redis.url, CONTROL_CLIENT_NAME);
  const notes: string[] = [];
  let rawConn: Redis | undefined;
  let raw: Queue | undefined;
  try {
    // A function has its container's client before it enqueues (rate limiter, slot cache): the
    // getter's queue is measured on top of that one connection.
    await getRedis();
    const productName = connectionName(config.service, config.profile);
    const product: Variant = {
      label: 'product (getAgendaQueue() on the shared client, as publishEvents)',
      // The getter is awaited on every add, as publishEvents does per request.
      add: async (eventId) => (await getAgendaQueue()).add('domain.event', { eventId }, { jobId: eventId }),
      samples: [],
      conns: { before: await countClients(control, { names: [productName] }), after: 0 },
    };
    const rawVariant: Variant = {
      label: 'raw BullMQ (new Queue on its own new IORedis)',
      add: (eventId) => raw!.add('domain.event', { eventId }, { ...DEFAULT_JOB_OPTIONS.agenda, jobId: eventId }),
      samples: [],
      conns: { before: await countClients(control, { names: [RAW_CLIENT_NAME] }), after: 0 },
    };
    // The usual raw pattern: its own connection (named only so CLIENT LIST can count it).
    rawConn = new Redis(config.redis.url, { connectionName: RAW_CLIENT_NAME });
    raw = new Queue('agenda', { connection: rawConn, prefix });
    raw.on('error', () => undefined);
    await raw.waitUntilReady();

    const variants = [product, rawVariant];
    const once = async (v: Variant, record: boolean) => {
      const id = randomUUID(); // outside the timing
      const started = performance.now();
      await v.add(id);
      if (record) v.samples.push(performance.now() - started);
    };
    for (const v of variants) for (let i = 0; i < warmup; i += 1) await once(v, false);
    for (let done = 0, block = 0; done < n; done += blockSize, block += 1) {
      const count = Math.min(blockSize, n - done);
      for (const v of block % 2 === 0 ? variants : [...variants].reverse()) for (let i = 0; i < count; i += 1) await once(v, true);
    }
    product.conns.after = await countClients(control, { names: [productName] });
    rawVariant.conns.after = await countClients(control, { names: [RAW_CLIENT_NAME] });

    const stats = variants.map((v) => {
      const s = summarize(v.samples);
      const total = v.samples.reduce((a, b) => a + b, 0);
      return { v, s, jobsPerSec: (v.samples.length * 1000) / total };
    });
    const [p, r] = stats as [(typeof stats)[number], (typeof stats)[number]];
    const connCell = (v: Variant) => `${v.conns.after - v.conns.before} (${v.conns.after} held)`;
    notes.push(
      `Same queue (\`${prefix}:agenda\`), job (\`domain.event\`, { eventId }, job id = event id) and options (the agenda queue's ` +
        `defaults: ${DEFAULT_JOB_OPTIONS.agenda.attempts} attempts, exponential backoff, removeOnComplete/Fail) for both; ` +
        `${warmup} unmeasured adds each first, then ${n} sequential adds each in blocks of ${blockSize}, ABBA.`,
      `Connections counted in CLIENT LIST by client name: the product's queue runs on the container's one client ` +
        `(\`${productName}\`, opened before the first add, as the rate limiter and slot cache already hold it), so enqueueing ` +
        'opens nothing; the raw pattern opens one per Queue object, i.e. per queue name per container.',
    );
    const row = (x: typeof p) => [x.v.label, x.jobsPerSec.toFixed(0), ms(x.s.p50), ms(x.s.p90), ms(x.s.p99), ms(x.s.mean), connCell(x.v)];
    return {
      params: { n, blockSize, warmup, prefix, profile: config.profile },
      tables: [
        {
          title: `Queue.add of one job, ${n} sequential adds per variant (latency in ms)`,
          columns: ['variant', 'jobs/s (sequential)', 'p50', 'p90', 'p99', 'mean', 'Redis conns opened'],
          rows: [
            row(p),
            row(r),
            [
              'ratio product / raw (time per add)',
              ratio(r.jobsPerSec / p.jobsPerSec),
              ratio(p.s.p50 / r.s.p50),
              ratio(p.s.p90 / r.s.p90),
              ratio(p.s.p99 / r.s.p99),
              ratio(p.s.mean / r.s.mean),
              '',
            ],
          ],
        },
      ],
      data: {
        latencyMs: { product: p.s, raw: r.s },
        jobsPerSec: { product: p.jobsPerSec, raw: r.jobsPerSec },
        connections: { product: product.conns, raw: rawVariant.conns },
      },
      notes,
    };
  } finally {
    await raw?.close().catch(() => undefined);
    await rawConn?.quit().catch(() => rawConn?.disconnect());
    const swept = await removeBenchQueues(control, prefix, ['agenda']).catch((err: Error) => {
      notes.push(`Cleanup failed: ${err.message}`);
      return 0;
    });
    notes.push(`Cleanup: queue \`${prefix}:agenda\` obliterated${swept > 0 ? ` (${swept} leftover key(s) swept)` : ''}; the raw Queue and its connection closed.`);
    await control.quit().catch(() => control.disconnect());
  }
}

export const queueEnqueue: BenchEntry = {
  name: 'queue enqueue',
  description: "Enqueueing a job through the product's queue getter (one shared Redis client) vs. a raw BullMQ Queue on its own IORedis connection.",
  run,
};
