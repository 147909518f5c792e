import { Queue, Worker, type Job } from 'bullmq';
import type Redis from 'ioredis';
import type { Client } from 'pg';
import { processCanary } from '../../lib/jobs/processors/system-canary';
import { getConfig } from '../../lib/platform/config';
import { DEFAULT_JOB_OPTIONS } from '../../lib/platform/queues/jobs';
import { QUEUE_NAMES } from '../../lib/platform/config/queue-names';
import { benchQueuePrefix } from '../support/bench-env';
import { startBenchConsumers, type BenchConsumers } from '../support/consumers';
import { envInt } from '../support/env';
import { countClients, openBenchRedis, removeBenchQueues } from '../support/redis-clients';
import { openFixtureClient } from '../support/scheduling';
import { ms, ratio, summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

const RAW_CLIENT_NAME = 'agenda-bench-raw-worker';
const CONTROL_CLIENT_NAME = 'agenda-bench-control';
const BLOCK_TIMEOUT_MS = 60_000;

interface Variant {
  label: string;
  prefix: string;
  /** Fills and pauses/resumes the variant's queue; not measured. */
  control: Queue;
  /** The worker consuming the `agenda` queue. */
  worker: Worker;
  drainMs: number[];
  jobs: number;
  failed: number;
  connections: number;
}

/** Resolves when `count` jobs have finished on `worker` (completed or failed), with the failures. */
function finished(worker: Worker, count: number): Promise<{ at: number; failed: number }> {
  return new Promise((resolve, reject) => {
    let done = 0;
    let failed = 0;
    const timer = setTimeout(() => settle(new Error(`${worker.name}: ${done}/${count} jobs finished after ${BLOCK_TIMEOUT_MS} ms`)), BLOCK_TIMEOUT_MS);
    const onCompleted = () => tick();
    const onFailed = () => {
      failed += 1;
      tick();
    };
    function tick() {
      done += 1;
      if (done === count) settle();
    }
    function settle(err?: Error) {
      const at = performance.now();
      clearTimeout(timer);
      worker.off('completed', onCompleted);
      worker.off('failed', onFailed);
      if (err) reject(err);
      else resolve({ at, failed });
    }
    worker.on('completed', onCompleted);
    worker.on('failed', onFailed);
  });
}

/** One block: `ids.length` canaries queued while the queue is paused, then timed from resume to the last finish. */
async function drainBlock(v: Variant, ids: string[], record: boolean): Promise<void> {
  await v.control.pause();
  await v.control.addBulk(
    ids.map((canaryId) => ({ name: 'system.canary', data: { canaryId }, opts: { ...DEFAULT_JOB_OPTIONS.agenda, jobId: `canary-${canaryId}` } })),
  );
  const done = finished(v.worker, ids.length);
  const started = performance.now();
  await v.control.resume();
  const { at, failed } = await done;
  if (!record) return;
  v.drainMs.push(at - started);
  v.jobs += ids.length;
  v.failed += failed;
}

async function run(): Promise<BenchResult> {
  const n = envInt('BENCH_WT_N', 2000);
  const blockSize = envInt('BENCH_WT_BLOCK', 100);
  const warmup = envInt('BENCH_WT_WARMUP', 50);
  const config = getConfig();
  const concurrency = envInt('BENCH_WT_CONCURRENCY', config.worker.concurrency.agenda);
  const base = benchQueuePrefix(config);
  const productPrefix = `${base}-wt-product`;
  const rawPrefix = `${base}-wt-raw`;
  const notes: string[] = [];
  const redis: Redis = await openBenchRedis(config.redis.url, CONTROL_CLIENT_NAME);
  const pg: Client = await openFixtureClient(config.db.url);
  const controls: Queue[] = [];
  let consumers: BenchConsumers | undefined;
  let rawConn: Redis | undefined;
  let rawWorker: Worker | undefined;
  let canaryIds: string[] = [];
  try {
    const blocks = Math.ceil(n / blockSize);
    const perVariant = warmup + n;
    // One canary row per job: processCanary reads it and marks it processed (two queries).
    const { rows } = await pg.query<{ id: string }>(
      "INSERT INTO canary_runs (queue) SELECT 'agenda' FROM generate_series(1, $1) RETURNING id::text",
      [perVariant * 2],
    );
    canaryIds = rows.map((r) => r.id);

    for (const prefix of [productPrefix, rawPrefix]) {
      const q = new Queue('agenda', { connection: redis, prefix });
      q.on('error', () => undefined);
      controls.push(q);
    }
    consumers = await startBenchConsumers({ prefix: productPrefix, concurrency: { agenda: concurrency }, clientName: 'agenda-bench-worker' });
    // The raw pattern: its own IORedis, a Worker around the same business function, same concurrency.
    rawConn = await openBenchRedis(config.redis.url, RAW_CLIENT_NAME);
    rawWorker = new Worker(
      'agenda',
      (job: Job) => processCanary({ queue: 'agenda', name: 'system.canary', id: job.id ?? '', data: job.data, attemptsMade: job.attemptsMade, mode: 'inline' }),
      { connection: rawConn, prefix: rawPrefix, concurrency },
    );
    rawWorker.on('error', () => undefined);
    await rawWorker.waitUntilReady();

    const product: Variant = {
      label: `product (startConsumers + processorFor, ${QUEUE_NAMES.length} queues)`,
      prefix: productPrefix,
      control: controls[0]!,
      worker: consumers.workers.find((w) => w.name === 'agenda')!,
      drainMs: [],
      jobs: 0,
      failed: 0,
      connections: await countClients(redis, { names: [consumers.sharedClientName], prefixes: [productPrefix] }),
    };
    const raw: Variant = {
      label: 'raw BullMQ (new Worker on its own IORedis, agenda queue only)',
      prefix: rawPrefix,
      control: controls[1]!,
      worker: rawWorker,
      drainMs: [],
      jobs: 0,
      failed: 0,
      connections: await countClients(redis, { names: [RAW_CLIENT_NAME], prefixes: [rawPrefix] }),
    };
    const variants = [product, raw];
    // Each variant takes its own half of the canary rows, in order.
    const pools = new Map(variants.map((v, i) => [v, canaryIds.slice(i * perVariant, (i + 1) * perVariant)]));
    const take = (v: Variant, count: number) => pools.get(v)!.splice(0, count);
    for (const v of variants) await drainBlock(v, take(v, warmup), false);
    for (let b = 0, done = 0; b < blocks; b += 1, done += blockSize) {
      const count = Math.min(blockSize, n - done);
      for (const v of b % 2 === 0 ? variants : [...variants].reverse()) await drainBlock(v, take(v, count), true);
    }

    const { rows: processed } = await pg.query<{ mode: string | null; n: number }>(
      "SELECT mode, count(*)::int AS n FROM canary_runs WHERE id = ANY($1::uuid[]) AND status = 'processed' GROUP BY mode",
      [canaryIds],
    );
    const processedCount = processed.reduce((a, r) => a + r.n, 0);
    if (processedCount !== perVariant * 2) notes.push(`Only ${processedCount} of ${perVariant * 2} canaries were marked processed.`);
    for (const v of variants) if (v.failed > 0) notes.push(`${v.label}: ${v.failed} job(s) failed.`);

    const stats = variants.map((v) => {
      const total = v.drainMs.reduce((a, b) => a + b, 0);
      const blocks = summarize(v.drainMs);
      return { v, jobsPerSec: (v.jobs * 1000) / total, perJob: total / v.jobs, blockP50: blocks.p50, blockMax: blocks.max };
    });
    const [p, r] = stats as [(typeof stats)[number], (typeof stats)[number]];
    notes.push(
      `Each block: ${blockSize} \`system.canary\` jobs (the agenda queue's default options) added while the queue is paused, ` +
        'then timed from resume to the last completed event; the worker stays up between blocks. ' +
        `${warmup} unmeasured jobs per variant first, then ${blocks} blocks per variant, ABBA. Concurrency ${concurrency} for both.`,
      'Same business function: both run processCanary (lib/jobs/processors/system-canary.ts: read the canary row, mark it processed). ' +
        "The product's Worker is built by worker/consumers.ts and runs it through processorFor (worker/dispatch.ts) and the job " +
        "registry (lib/jobs/registry.ts) with the config's lock and stalled settings; the raw one calls it directly with BullMQ's defaults.",
      `Database: both share the bench process's pool (${config.profile} profile, max ${config.db.poolMax}); the worker container's ` +
        `profile would give them a larger one, so jobs/s here is a floor and mostly the database's.`,
      'Redis connections in CLIENT LIST by name while the workers run: the product consumers share one client and add one ' +
        `blocking connection per queue (${QUEUE_NAMES.length} queues); a raw Worker given its own IORedis uses it and adds one ` +
        'blocking connection, so each further queue costs two.',
    );
    const row = (x: typeof p) => [x.v.label, x.jobsPerSec.toFixed(0), ms(x.perJob), ms(x.blockP50), ms(x.blockMax), String(x.v.jobs), String(x.v.failed), String(x.v.connections)];
    return {
      params: { n, blockSize, warmup, concurrency, profile: config.profile, poolMax: config.db.poolMax },
      tables: [
        {
          title: `Draining pre-filled \`system.canary\` jobs, ${n} per variant, concurrency ${concurrency} (ms)`,
          columns: ['variant', 'jobs/s', 'ms per job', `drain p50 (${blockSize} jobs)`, 'drain max', 'jobs', 'failed', 'Redis conns'],
          rows: [
            row(p),
            row(r),
            ['ratio product / raw', ratio(p.jobsPerSec / r.jobsPerSec), ratio(p.perJob / r.perJob), ratio(p.blockP50 / r.blockP50), ratio(p.blockMax / r.blockMax), '', '', ''],
          ],
        },
      ],
      data: {
        drainMs: { product: p.v.drainMs, raw: r.v.drainMs },
        jobsPerSec: { product: p.jobsPerSec, raw: r.jobsPerSec },
        connections: { product: p.v.connections, raw: r.v.connections },
        processedByMode: processed,
      },
      notes,
    };
  } finally {
    await consumers?.stop().catch((err: Error) => notes.push(`Stopping the consumers failed: ${err.message}`));
    await rawWorker?.close().catch(() => undefined);
    await rawConn?.quit().catch(() => rawConn?.disconnect());
    await Promise.allSettled(controls.map((q) => q.close()));
    let swept = 0;
    try {
      swept += await removeBenchQueues(redis, productPrefix, QUEUE_NAMES);
      swept += await removeBenchQueues(redis, rawPrefix, ['agenda']);
    } catch (err) {
      notes.push(`Queue cleanup failed: ${(err as Error).message}`);
    }
    if (canaryIds.length > 0) {
      await pg.query('DELETE FROM canary_runs WHERE id = ANY($1::uuid[])', [canaryIds]).catch((err: Error) => notes.push(`Deleting the canary rows failed: ${err.message}`));
    }
    notes.push(
      `Cleanup: ${canaryIds.length} canary rows deleted; queues under \`${productPrefix}\` and \`${rawPrefix}\` obliterated` +
        `${swept > 0 ? ` (${swept} leftover key(s) swept)` : ''}; workers and connections closed.`,
    );
    await pg.end();
    await redis.quit().catch(() => redis.disconnect());
  }
}

export const workerThroughput: BenchEntry = {
  name: 'worker throughput',
  description:
    "Draining pre-filled jobs with the worker container's consumers (startConsumers, processorFor) vs. a raw BullMQ Worker running the same processor.",
  run,
};
