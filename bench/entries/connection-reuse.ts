import type { Context } from 'aws-lambda';
import { getConfig } from '../../lib/platform/config';
import { getPoolIfCreated } from '../../lib/platform/db/client';
import type { HttpEvent } from '../../lib/http/types';
import type { HttpResult } from '../../lib/http/response';
import { closeAll } from '../../lib/platform/lifecycle/close-all';
import { getRedisIfCreated } from '../../lib/platform/redis/client';
import { BENCH_REDIS_KEY, PER_INVOCATION_APP_NAME } from '../handlers/fixtures';
import { perInvocationHandler, perInvocationOpened } from '../handlers/per-invocation';
import { singletonHandler } from '../handlers/singleton';
// The same API Gateway event and Lambda context the tests invoke handlers with.
import { buildContext, buildHttpEvent } from '../../test/support/invoke';
import { envInt } from '../support/env';
import { ServerMonitor, type ServerCounters } from '../support/server-counters';
import { ms, ratio, summarize, type LatencySummary } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

type Invoke = (event: HttpEvent, context: Context) => Promise<HttpResult>;

interface Variant {
  label: string;
  functionName: string;
  invoke: Invoke;
  samples: number[];
  /** Server-side deltas summed over this variant's measured blocks. */
  server: Opened;
  /** What the variant's own clients reported opening during its measured blocks (cross-check). */
  client: Opened;
}

interface Opened {
  postgres: number;
  redis: number;
}

const event = buildHttpEvent({ method: 'GET', path: '/bench/connection-reuse', routeKey: 'GET /bench/connection-reuse' });

async function invokeOnce(v: Variant): Promise<number> {
  const context = buildContext(v.functionName); // a fresh request id and deadline, outside the timing
  const started = performance.now();
  const result = await v.invoke(event, context);
  const elapsed = performance.now() - started;
  if (result.statusCode !== 200) throw new Error(`${v.label} answered ${result.statusCode}: ${String(result.body)}`);
  return elapsed;
}

/** Runs `count` sequential invocations between two server readings: their latencies and the deltas. */
async function block(v: Variant, count: number, monitor: ServerMonitor) {
  const samples: number[] = [];
  const before = await monitor.read();
  for (let i = 0; i < count; i += 1) samples.push(await invokeOnce(v));
  await monitor.settle(PER_INVOCATION_APP_NAME); // anti-pattern backends have exited and been counted
  const after = await monitor.read();
  return { samples, opened: delta(before, after) };
}

const delta = (a: ServerCounters, b: ServerCounters): Opened => ({
  postgres: b.pgSessions - a.pgSessions,
  redis: b.redisConnections - a.redisConnections,
});

/** Counts (re)connections of the singletons from now on; they must already exist. */
function countSingletonConnects(into: Opened): void {
  getPoolIfCreated()?.on('connect', () => (into.postgres += 1));
  getRedisIfCreated()?.on('connect', () => (into.redis += 1));
}

async function run(): Promise<BenchResult> {
  const n = envInt('BENCH_N', 1000);
  const warmup = envInt('BENCH_WARMUP', 50);
  const blockSize = Math.min(envInt('BENCH_BLOCK', 50), n);
  const config = getConfig();
  const monitor = await ServerMonitor.open(config.db.url, config.redis.url);
  try {
    await monitor.redisClient.set(BENCH_REDIS_KEY, 'cached-value', 'EX', 600);
    const singleton: Variant = {
      label: 'singleton (getDb/getRedis)',
      functionName: 'agenda-bench-singleton',
      invoke: singletonHandler,
      samples: [],
      server: { postgres: 0, redis: 0 },
      client: { postgres: 0, redis: 0 },
    };
    const perInvocation: Variant = {
      label: 'per-invocation (anti-pattern)',
      functionName: 'agenda-bench-per-invocation',
      invoke: perInvocationHandler,
      samples: [],
      server: { postgres: 0, redis: 0 },
      client: { postgres: 0, redis: 0 },
    };

    // Warm-up, not measured. Singletons an earlier entry left open are closed first, so the
    // singleton's first invocation is a real cold start. The runner closes them at the end.
    await closeAll();
    const singletonWarm = await block(singleton, warmup, monitor);
    await block(perInvocation, warmup, monitor);
    countSingletonConnects(singleton.client);
    const antiBase = { ...perInvocationOpened };
    // Measured: alternating blocks, alternating which goes first (ABBA), so drift hits both alike.
    for (let done = 0, round = 0; done < n; done += blockSize, round += 1) {
      const count = Math.min(blockSize, n - done);
      const order = round % 2 === 0 ? [singleton, perInvocation] : [perInvocation, singleton];
      for (const v of order) {
        const { samples, opened } = await block(v, count, monitor);
        v.samples.push(...samples);
        v.server.postgres += opened.postgres;
        v.server.redis += opened.redis;
      }
    }
    perInvocation.client = {
      postgres: perInvocationOpened.postgres - antiBase.postgres,
      redis: perInvocationOpened.redis - antiBase.redis,
    };
    const params = { n, warmup, blockSize, profile: config.profile, poolMax: config.db.poolMax };
    return report(params, singleton, perInvocation, {
      coldStartMs: singletonWarm.samples[0] ?? Number.NaN,
      singletonWarmup: singletonWarm.opened,
    });
  } finally {
    await monitor.redisClient.del(BENCH_REDIS_KEY).catch(() => undefined);
    await monitor.close();
  }
}

interface Extra {
  coldStartMs: number;
  singletonWarmup: Opened;
}

function report(
  params: { n: number; warmup: number; blockSize: number; profile: string; poolMax: number },
  singleton: Variant,
  perInvocation: Variant,
  extra: Extra,
): BenchResult {
  const per1k = (count: number) => (count * 1000) / params.n;
  const rows = [singleton, perInvocation].map((v) => {
    const s = summarize(v.samples);
    return { v, s, pg: per1k(v.server.postgres), redis: per1k(v.server.redis) };
  });
  const [a, b] = rows as [(typeof rows)[number], (typeof rows)[number]];
  const ratios = (k: keyof LatencySummary) => b.s[k] / a.s[k];
  const notes: string[] = [
    `Not in the table: the singleton's cold start (first invocation: connect, validate, first Prisma query) took ` +
      `${ms(extra.coldStartMs)} ms, and its ${params.warmup} warm-up invocations opened ` +
      `${extra.singletonWarmup.postgres} PostgreSQL session(s) and ${extra.singletonWarmup.redis} Redis connection(s) in all.`,
  ];
  for (const { v } of rows) {
    const { client } = v;
    if (client.postgres !== v.server.postgres || client.redis !== v.server.redis) {
      notes.push(
        `${v.label}: the servers counted ${v.server.postgres} PostgreSQL / ${v.server.redis} Redis connections in ` +
          `its blocks while its own clients opened ${client.postgres} / ${client.redis}; the difference came from other ` +
          `clients of the same server during those blocks (the counters are server-wide).`,
      );
    }
  }
  const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  return {
    params,
    tables: [
      {
        title: `Connection reuse: ${params.n} sequential invocations per handler (ms; connections per 1,000 invocations)`,
        columns: ['handler', 'p50', 'p95', 'p99', 'mean', 'PG sessions / 1k', 'Redis conns / 1k'],
        rows: [
          ...rows.map(({ v, s, pg, redis }) => [v.label, ms(s.p50), ms(s.p95), ms(s.p99), ms(s.mean), fmt(pg), fmt(redis)]),
          ['ratio anti-pattern / singleton', ratio(ratios('p50')), ratio(ratios('p95')), ratio(ratios('p99')), ratio(ratios('mean')), '', ''],
        ],
      },
    ],
    data: {
      latencyMs: { singleton: a.s, perInvocation: b.s },
      ratio: { p50: ratios('p50'), p95: ratios('p95'), p99: ratios('p99'), mean: ratios('mean') },
      serverConnectionsOpened: { singleton: singleton.server, perInvocation: perInvocation.server },
      serverConnectionsPer1000: {
        singleton: { postgres: a.pg, redis: a.redis },
        perInvocation: { postgres: b.pg, redis: b.redis },
      },
      clientConnectionsOpened: { singleton: singleton.client, perInvocation: perInvocation.client },
      coldStartMs: extra.coldStartMs,
      singletonWarmupConnections: extra.singletonWarmup,
    },
    notes,
  };
}

export const connectionReuse: BenchEntry = {
  name: 'connection reuse',
  description:
    'A handler on the container singletons vs. one that opens and closes its pg Pool, Prisma client and ioredis client per invocation.',
  run,
};
