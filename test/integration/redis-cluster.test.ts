/**
 * What only a Redis Cluster shows, on the scratch three-master cluster of the cluster pass
 * (jest.cluster.config.ts; test/setup/env.ts sets REDIS_CLUSTER_NODES and a hash-tagged
 * QUEUE_PREFIX): the singleton is a Cluster client; checks reach every master; each queue's keys
 * share one slot; BullMQ jobs and job schedulers work; the rate limit and the slot cache count and
 * invalidate across masters and containers; a prefix without a hash tag is refused, and why.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import { parseConfig } from '../../lib/platform/config';
import { TEST_REDIS_CLUSTER_NODES } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { localAt, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';
import { until } from '../support/until';

const suite = useSuite({
  env: { AGENDA_PROFILE: 'api', RATE_LIMIT_POINTS: '3', RATE_LIMIT_DURATION_S: '60' },
  modules: {
    redisClient: () => import('../../lib/platform/redis/client'),
    link: () => import('../../lib/platform/redis/link'),
    eviction: () => import('../../lib/platform/redis/eviction'),
    health: () => import('../../lib/platform/health/check'),
    config: () => import('../../lib/platform/config'),
    queues: () => import('../../lib/platform/queues/queues'),
    rateLimit: () => import('../../lib/http/rate-limit'),
    cache: () => import('../../lib/domain/availability/cache'),
    availability: () => import('../../lib/domain/availability/service'),
    canary: () => import('../../lib/domain/canary/service'),
    consumers: () => import('../../worker/consumers'),
    schedulers: () => import('../../worker/schedulers'),
  },
  pg: true,
  obliterateQueues: true,
});
const { redisClient, link, eviction, health, config, queues, rateLimit, cache, availability, canary, consumers, schedulers } = suite.m;

if (!TEST_REDIS_CLUSTER_NODES) throw new Error('redis-cluster.test.ts runs in the cluster pass: npx jest -c jest.cluster.config.ts');
const NODE_ADDRESSES = TEST_REDIS_CLUSTER_NODES.split(',').map((u) => new URL(u).host).sort();

const cluster = async () => (await redisClient.getRedis()) as Cluster;
const slotOf = async (key: string) => Number(await (await cluster()).cluster('KEYSLOT', key));

/** Every key matching `pattern` on one server, by SCAN (never KEYS). */
async function scanAll(node: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

describe('function profile', () => {
  it('makes the singleton a Cluster client of every master, with the fail-fast options and its name on each link', async () => {
    const c = await redisClient.getRedis();
    expect(link.isCluster(c)).toBe(true);
    const masters = (c as Cluster).nodes('master');
    expect(masters.map(link.addressOf).sort()).toEqual(NODE_ADDRESSES);
    expect((c as Cluster).options).toMatchObject({ enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 1000 } });
    const name = (c as Cluster).options.redisOptions?.connectionName;
    expect(name).toMatch(/-api-/);
    expect(await Promise.all(masters.map((m) => m.client('GETNAME')))).toEqual(masters.map(() => name));
  });

  it('pings and checks the eviction policy of every master: one master that may evict makes /health degraded', async () => {
    expect((await health.checkHealth()).checks.redis).toMatchObject({ status: 'up', evictionPolicy: 'noeviction', masters: 3 });
    const second = (await cluster()).nodes('master')[1]!;
    await second.config('SET', 'maxmemory-policy', 'allkeys-lru'); // the scratch cluster's own node
    try {
      expect(await eviction.readEvictionPolicy(await cluster())).toBe(`allkeys-lru on ${link.addressOf(second)}`);
      const report = await health.checkHealth();
      expect(report).toMatchObject({ status: 'degraded', checks: { redis: { status: 'up', evictionSafe: false } } });
      expect(report.warnings.join()).toContain('allkeys-lru');
    } finally {
      await second.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it("keeps every key of every queue in the slot of the prefix's hash tag, on one master", async () => {
    const { prefix } = config.getConfig().queues;
    expect(prefix).toMatch(/^\{test-[0-9a-f]{8}\}$/);
    const tagSlot = await slotOf(prefix);
    for (const name of ['agenda', 'webhook', 'notification', 'renovacao'] as const) {
      const queue = await queues.getQueueByName(name);
      await queue.add('system.canary', { canaryId: randomUUID() }, { delay: 3_600_000, jobId: `parked-${name}` });
      expect(new Set(await Promise.all(Object.values(queue.keys).map(slotOf)))).toEqual(new Set([tagSlot]));
    }
    const found = await Promise.all((await cluster()).nodes('master').map((m) => scanAll(m, `${prefix}:*`)));
    expect(found.filter((keys) => keys.length > 0)).toHaveLength(1);
    const keys = found.flat();
    expect(keys).toEqual(expect.arrayContaining(['agenda', 'webhook', 'notification', 'renovacao'].map((q) => `${prefix}:${q}:delayed`)));
    expect(new Set(await Promise.all(keys.map(slotOf)))).toEqual(new Set([tagSlot]));
    for (const name of ['agenda', 'webhook', 'notification', 'renovacao'] as const) await (await queues.getQueueByName(name)).remove(`parked-${name}`);
  });

  it('counts the key and clinic rate limits across two containers (two cluster clients) and answers 429 past them', async () => {
    let other!: {
      rateLimit: typeof import('../../lib/http/rate-limit');
      redis: typeof import('../../lib/platform/redis/client');
      errors: typeof import('../../lib/platform/errors/describe');
    };
    let closeOther!: () => Promise<void>;
    await jest.isolateModulesAsync(async () => {
      other = {
        rateLimit: await import('../../lib/http/rate-limit'),
        redis: await import('../../lib/platform/redis/client'),
        errors: await import('../../lib/platform/errors/describe'),
      };
      closeOther = (await import('../../lib/platform/lifecycle/close-all')).closeAll;
    });
    try {
      expect(await other.redis.getRedis()).not.toBe(await redisClient.getRedis());
      const subject = { apiKeyId: randomUUID(), clinicId: randomUUID() };
      const remaining = [];
      for (const rl of [rateLimit, other.rateLimit, rateLimit]) remaining.push((await rl.consumeRateLimit(subject))?.remaining);
      expect(remaining).toEqual([2, 1, 0]);
      const refused = await other.rateLimit.consumeRateLimit(subject).catch((err: unknown) => err);
      expect(other.errors.describeError(refused)).toMatchObject({ status: 429, code: 'rate_limited', details: { budget: 'key' } });
      const { keyPrefix } = config.getConfig().rateLimit;
      expect(await (await cluster()).get(`${keyPrefix}:${subject.apiKeyId}`)).toBe('4');
      // The clinic's counter, a key of its own (any slot): the request its key refused did not spend it.
      expect(await (await cluster()).get(`${keyPrefix}:clinic:${subject.clinicId}`)).toBe('3');
    } finally {
      await closeOther();
    }
  });

  it('serves slot lists from the cache, drops them on a change, and drops stale lists of professionals on several masters at once', async () => {
    const { clinicId } = await newClinic();
    const pro = await newProfessional(clinicId);
    const req = { clinicId, timeZone: 'America/Sao_Paulo', professionalId: pro.id, from: new Date(localAt(1, 0)), to: new Date(localAt(2, 0)) };
    const outcomes = [(await availability.getSlots(req)).cache, (await availability.getSlots(req)).cache];
    await cache.invalidateSlots(pro.id);
    outcomes.push((await availability.getSlots(req)).cache, (await availability.getSlots(req)).cache);
    expect(outcomes).toEqual(['miss', 'hit', 'miss', 'hit']);

    const stale = await Promise.all([1, 2, 3, 4, 5, 6].map(() => newProfessional(clinicId)));
    const ids = stale.map((p) => p.id);
    expect(new Set(await Promise.all(ids.map((id) => slotOf(`slots:ver:${id}`)))).size).toBeGreaterThan(1);
    await suite.pg.query('UPDATE professionals SET slot_cache_stale_since = now() WHERE id = ANY($1::uuid[])', [ids]);
    expect(await cache.dropStaleSlotCaches()).toBeGreaterThanOrEqual(ids.length);
    expect(await Promise.all(ids.map(async (id) => (await cluster()).get(`slots:ver:${id}`)))).toEqual(ids.map(() => '1'));
    const { rows } = await suite.pg.query('SELECT count(*)::int AS n FROM professionals WHERE id = ANY($1::uuid[]) AND slot_cache_stale_since IS NOT NULL', [ids]);
    expect(rows[0].n).toBe(0);
  });

  it('refuses a queue prefix without a hash tag, which BullMQ could not use on a cluster', async () => {
    expect(() => parseConfig({ ...process.env, QUEUE_PREFIX: 'plain' })).toThrow(/QUEUE_PREFIX \(plain\) needs a \{hash tag\}.*one slot/);
    // Why: a script over one queue's keys spread over slots is refused by the cluster itself.
    const { Queue } = await import('bullmq');
    const plain = new Queue('agenda', { connection: await redisClient.getRedis(), prefix: `plain-${randomUUID().slice(0, 8)}` });
    try {
      await expect(plain.add('system.canary', { canaryId: randomUUID() })).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await plain.close();
    }
  });
});

describe('worker profile', () => {
  let workers: Worker[] = [];
  let canaryId: string;

  beforeAll(async () => {
    // Enqueued by a function container, before the worker's container starts.
    canaryId = (await canary.requestCanary('agenda', 0)).id;
    process.env.AGENDA_PROFILE = 'worker'; // useSuite restores it after the file
    await suite.reload();
  });
  afterAll(async () => {
    await consumers.stopConsumers(workers, 10_000);
  });

  it('gives the Cluster client the waiting options BullMQ Workers need', async () => {
    expect((await cluster()).options).toMatchObject({ enableOfflineQueue: true, redisOptions: { maxRetriesPerRequest: null, commandTimeout: undefined } });
  });

  it('processes and completes the job a function added, with the worker consumers on the cluster', async () => {
    workers = consumers.startConsumers(config.getConfig(), await redisClient.getRedis());
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    const state = await until('the canary job completed', async () => (await queues.getAgendaQueue()).getJobState(`canary-${canaryId}`), (s) => s === 'completed', { timeoutMs: 20_000 });
    expect(state).toBe('completed');
    const { rows } = await suite.pg.query('SELECT status, mode FROM canary_runs WHERE id = $1', [canaryId]);
    expect(rows[0]).toEqual({ status: 'processed', mode: 'inline' });
  });

  it('upserts the job schedulers on the cluster, one per id however often', async () => {
    await schedulers.startSchedulers();
    await schedulers.startSchedulers();
    const agenda = (await (await queues.getAgendaQueue()).getJobSchedulers()).map((s) => s.key).sort();
    expect(agenda).toEqual(['appointments-no-show-sweep', 'controls-expiry-scan', 'idempotency-purge', 'outbox-relay', 'retention-purge', 'sockets-sweep']);
    expect((await (await queues.getRenovacaoQueue()).getJobSchedulers()).map((s) => s.key)).toEqual([schedulers.RENEWAL_SCAN_SCHEDULER_ID]);
  });
});
