import './profile';
import { setTimeout as sleep } from 'node:timers/promises';
import { getConfig } from '../lib/platform/config';
import { closeAll } from '../lib/platform/lifecycle/close-all';
import { logger } from '../lib/platform/observability/logger';
import { QUEUE_NAMES } from '../lib/platform/config/queue-names';
import { getRedis, onRedisReconnectGaveUp } from '../lib/platform/redis/client';
import { readEvictionPolicy } from '../lib/platform/redis/eviction';
import { loadSecrets } from '../lib/platform/secrets/load-secrets';
import { startConsumers, stopConsumers } from './consumers';
import { startDashboard } from './dashboard';
import { warmDatabase } from './database-warmup';
import { startHealthServer } from './health-server';
import { startQueueMetrics } from './queue-metrics';
import { startSchedulers } from './schedulers';

/**
 * Exit code after Redis stayed unreachable for REDIS_RECONNECT_ATTEMPTS reconnects in a row
 * (EX_TEMPFAIL): the container platform restarts the worker, which waits for Redis again at start.
 */
const EXIT_REDIS_LOST = 75;

/**
 * The worker container: BullMQ consumers for the four queues, liveness and readiness probes, queue
 * metrics, and a graceful shutdown on SIGTERM/SIGINT (stop taking jobs, drain within a bound, close
 * connections). PostgreSQL may be down at start or later: the worker stays up, not ready. Redis
 * may not: it waits for Redis at start, and when Redis then stays away for REDIS_RECONNECT_ATTEMPTS
 * reconnects in a row (15: about 51 s while it refuses connections), the same drain runs and the
 * process exits 75: an ioredis client that gave up is never revived by the BullMQ Workers on it
 * (nor their blocking copies, which give up too), so staying up would leave a worker that looks
 * alive and consumes nothing.
 */
async function main(): Promise<void> {
  // Listening from the first line. Before the consumers start, there is nothing to drain: a stop
  // exits at once (even while waiting for Redis). Once they run, a stop waits for the drain below.
  let stopRequested: NodeJS.Signals | undefined;
  let onStop = (signal: NodeJS.Signals): void => {
    logger.info('worker.stopped', { signal, during: 'start-up' });
    process.exit(0);
  };
  process.on('SIGTERM', (s) => onStop(s));
  process.on('SIGINT', (s) => onStop(s));
  await loadSecrets(); // aws-ssm:/aws-sm: references, before anything reads the config
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
  // Not awaited: a database that is down leaves the worker alive and not ready (GET /ready), not exited.
  const database = warmDatabase();
  const inlineSlots = QUEUE_NAMES.filter((q) => config.worker.mode[q] === 'inline').reduce((n, q) => n + config.worker.concurrency[q], 0);
  if (inlineSlots > config.db.poolMax * 2) {
    // Processors hold a connection only while they query, so some oversubscription is fine.
    logger.warn('worker.pool_oversubscribed', { inlineSlots, poolMax: config.db.poolMax });
  }
  onStop = (signal) => void (stopRequested ??= signal);
  const workers = startConsumers(config, redis);
  const health = await startHealthServer(config, workers);
  const dashboard = await startDashboard(config);
  await startSchedulers();
  health.markStarted();
  const metrics = startQueueMetrics(config);
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
    metrics.stop();
    database.stop();
    const outcome = await stopConsumers(workers, config.worker.shutdownTimeoutMs);
    await health.close();
    await dashboard?.close();
    // Bounded too: a connection busy with an abandoned job must not keep the container alive.
    await Promise.race([closeAll(), sleep(5_000)]);
    logger.info('worker.stopped', { outcome, exitCode });
    process.exit(exitCode);
  };
  onStop = (s) => void shutdown(s);
  if (stopRequested) onStop(stopRequested);
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
