import './profile';
import { setTimeout as sleep } from 'node:timers/promises';
import { getConfig } from '../lib/config';
import { getDb } from '../lib/db/client';
import { closeAll } from '../lib/lifecycle/close-all';
import { logger } from '../lib/observability/logger';
import { QUEUE_NAMES } from '../lib/queues/names';
import { getRedis, onRedisReconnectGaveUp, readEvictionPolicy } from '../lib/redis/client';
import { startConsumers, stopConsumers } from './consumers';
import { createDashboard } from './dashboard';
import { startHealthServer } from './health-server';
import { startSchedulers } from './schedulers';

/**
 * Exit code after Redis stayed unreachable for REDIS_RECONNECT_ATTEMPTS reconnects in a row
 * (EX_TEMPFAIL): the container platform restarts the worker, which waits for Redis again at start.
 */
const EXIT_REDIS_LOST = 75;

/**
 * The worker container: BullMQ consumers for the four queues, a health endpoint, and a graceful
 * shutdown on SIGTERM/SIGINT (stop taking jobs, drain within a bound, close connections). When
 * Redis stays away for REDIS_RECONNECT_ATTEMPTS reconnects in a row (15: about 51 s while it
 * refuses connections), the same drain runs and the process exits 75: an ioredis client that gave
 * up is never revived by the BullMQ Workers on it (nor their blocking copies, which give up too),
 * so staying up would leave a worker that looks alive and consumes nothing.
 */
async function main(): Promise<void> {
  const config = getConfig();
  const redis = await getRedis();
  const policy = await readEvictionPolicy(redis);
  if (policy !== 'noeviction') {
    const message =
      `Redis maxmemory-policy is "${policy}", but BullMQ needs "noeviction": under any other policy Redis may ` +
      `delete queued jobs. Set it (redis-cli CONFIG SET maxmemory-policy noeviction, or the parameter group on a ` +
      `managed service)` + (config.worker.requireNoEviction ? '.' : '; starting anyway (WORKER_REQUIRE_NOEVICTION=false).');
    logger.error('worker.redis_eviction_policy', { policy });
    console.error(message);
    if (config.worker.requireNoEviction) process.exit(78); // EX_CONFIG
  }
  await getDb();
  const inlineSlots = QUEUE_NAMES.filter((q) => config.worker.mode[q] === 'inline').reduce((n, q) => n + config.worker.concurrency[q], 0);
  if (inlineSlots > config.db.poolMax * 2) {
    // Processors hold a connection only while they query, so some oversubscription is fine.
    logger.warn('worker.pool_oversubscribed', { inlineSlots, poolMax: config.db.poolMax });
  }
  const workers = startConsumers(config, redis);
  const health = await startHealthServer(config, workers, await createDashboard(config));
  await startSchedulers();
  // A Redis that came back empty (no persistence, a failover to an empty replica) lost the job
  // schedulers, the outbox relay's included: upserted again on every reconnect (one per id however
  // often), so the relay still publishes what an outage left behind.
  redis.on('ready', () => void startSchedulers().catch((err: Error) => logger.warn('worker.schedulers_restore_failed', { error: err.message })));

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals | 'redis_lost', exitCode = 0) => {
    // A terminal's Ctrl-C reaches npm, tsx and node alike, so one gesture can arrive twice; the
    // drain is bounded anyway (WORKER_SHUTDOWN_TIMEOUT_MS), so repeats are ignored.
    if (stopping) return;
    stopping = true;
    logger.info('worker.stopping', { signal, timeoutMs: config.worker.shutdownTimeoutMs, exitCode });
    health.markDraining();
    const outcome = await stopConsumers(workers, config.worker.shutdownTimeoutMs);
    await health.close();
    // Bounded too: a connection busy with an abandoned job must not keep the container alive.
    await Promise.race([closeAll(), sleep(5_000)]);
    logger.info('worker.stopped', { outcome, exitCode });
    process.exit(exitCode);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
  onRedisReconnectGaveUp(() => {
    if (!stopping) logger.error('worker.redis_lost', { attempts: config.redis.reconnectAttempts, exitCode: EXIT_REDIS_LOST });
    void shutdown('redis_lost', EXIT_REDIS_LOST);
  });
  logger.info('worker.ready', { queues: workers.map((w) => w.name), healthPort: health.port, prefix: config.queues.prefix });
}

main().catch((err: Error) => {
  logger.error('worker.start_failed', { error: err.message });
  console.error(`worker failed to start: ${err.message}`);
  process.exit(1);
});
