import { getConfig } from '../config';
import { getPoolerStatus, pingDatabase } from '../db/client';
import { poolStats } from '../db/pool';
import { getContainerInfo } from '../observability/container';
import { QUEUE_NAMES, type QueueName } from '../config/queue-names';
import { getQueueByName } from '../queues/queues';
import { getRedis, withRedisRetry } from '../redis/client';
import { readEvictionPolicy } from '../redis/eviction';
import { isCluster, mastersOf } from '../redis/link';

type Dependency = 'database' | 'redis' | 'queues';

export interface CheckResult {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
  [extra: string]: unknown;
}

/** This container's share of the database connection budget (README, "Connection budget"). */
export interface BudgetShare {
  profile: string;
  poolMax: number;
  poolMin: number;
  /** Containers of this function that can run at once (its reserved concurrency), when known. */
  reservedConcurrency: number | null;
  /** The most connections the function as a whole can hold: reserved concurrency x pool max. */
  functionAtMost: number | null;
}

export interface HealthReport {
  /** `degraded`: serving, but something needs an operator (e.g. an eviction policy that loses jobs). */
  status: 'ok' | 'degraded' | 'unavailable';
  down: Dependency[];
  warnings: string[];
  checks: Partial<Record<Dependency, CheckResult>>;
  container: ReturnType<typeof getContainerInfo> & { profile: string };
  budget: BudgetShare;
}

/** Runs one check within HEALTH_CHECK_TIMEOUT_MS; a check past it counts as down. */
async function timed(fn: () => Promise<Record<string, unknown>>): Promise<CheckResult> {
  const started = Date.now();
  const boundMs = getConfig().healthCheckTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${boundMs} ms`)), boundMs);
  });
  try {
    const extra = await Promise.race([fn(), timeout]);
    return { status: 'up', latencyMs: Date.now() - started, ...extra };
  } catch (err) {
    return { status: 'down', latencyMs: Date.now() - started, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** One query on the pool itself: a probe needs neither Prisma nor its query compiler. */
const checkDatabase = () =>
  timed(async () => {
    const pool = await pingDatabase();
    return { pool: poolStats(pool), ...getPoolerStatus() };
  });

/** On a cluster every master answers: each holds a share of the keys, so one down fails some requests. */
const checkRedis = () =>
  timed(async () => {
    const redis = await getRedis();
    let masters = 0;
    const evictionPolicy = await withRedisRetry(async () => {
      const nodes = mastersOf(redis);
      masters = nodes.length;
      await Promise.all(nodes.map((node) => node.ping()));
      return readEvictionPolicy(redis);
    });
    return { evictionPolicy, evictionSafe: evictionPolicy === 'noeviction', ...(isCluster(redis) && { masters }) };
  });

const checkQueues = () =>
  timed(async () => {
    const counts = await Promise.all(
      QUEUE_NAMES.map(async (name: QueueName) => {
        const queue = await getQueueByName(name);
        return [name, await withRedisRetry(() => queue.getJobCounts('waiting', 'active', 'delayed', 'failed'))] as const;
      }),
    );
    return { queues: Object.fromEntries(counts) };
  });

function budgetShare(): BudgetShare {
  const { profile, db, reservedConcurrency } = getConfig();
  return {
    profile,
    poolMax: db.poolMax,
    poolMin: db.poolMin,
    reservedConcurrency: reservedConcurrency ?? null,
    functionAtMost: reservedConcurrency ? reservedConcurrency * db.poolMax : null,
  };
}

/**
 * Checks every dependency this profile uses, in parallel, each bounded by its own timeouts. The
 * socket profile uses no Redis, so only its database is checked. Queue depths are the worker's to
 * report: a function's probe stays cheap, and loads no queue code.
 */
export async function checkHealth(): Promise<HealthReport> {
  const { profile } = getConfig();
  const usesRedis = profile !== 'socket';
  const [database, redis, queues] = await Promise.all([
    checkDatabase(),
    usesRedis ? checkRedis() : undefined,
    profile === 'worker' ? checkQueues() : undefined,
  ]);
  const checks: HealthReport['checks'] = { database, ...(redis && { redis }), ...(queues && { queues }) };
  const down = (Object.entries(checks) as [Dependency, CheckResult][])
    .filter(([, c]) => c.status === 'down')
    .map(([name]) => name);
  const warnings: string[] = [];
  if (redis?.status === 'up' && redis.evictionSafe === false) {
    warnings.push(`Redis maxmemory-policy is ${String(redis.evictionPolicy)}; BullMQ needs noeviction or jobs can be lost`);
  }
  const fix = database.status === 'up' ? database.fix : undefined;
  if (typeof fix === 'string') warnings.push(`Statements outside transactions are not bounded through the pooler: ${fix}`);
  return {
    status: down.length > 0 ? 'unavailable' : warnings.length > 0 ? 'degraded' : 'ok',
    down,
    warnings,
    checks,
    container: { ...getContainerInfo(), profile },
    budget: budgetShare(),
  };
}
