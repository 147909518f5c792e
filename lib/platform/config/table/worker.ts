import { z } from 'zod';
import { isHourlyPattern } from '../hourly-pattern';
import { env, perQueue } from '../variable';
import { bool, int } from '../parsers';

// Together within what the worker's pool serves (worker/main.ts warns past 2 jobs per connection).
const CONCURRENCY = { agenda: 5, webhook: 8, notification: 5, renovacao: 2 };

const HOURLY =
  'must fire once every hour, e.g. "15 * * * *" (one minute, "*" for hour, day, month and weekday): ' +
  'each pass scans only the clinics whose local hour is RENEWAL_SCAN_LOCAL_HOUR, so an hour without a pass leaves its clinics never scanned';

/** The worker container: its consumers, its health port, and how often each scheduled job runs. */
export const WORKER = {
  concurrency: perQueue((q, Q) => env(`WORKER_CONCURRENCY_${Q}`, int(1, 200), CONCURRENCY[q],
    `Jobs of the ${q} queue one worker runs at once.`)),
  mode: perQueue((q, Q) => env(`WORKER_MODE_${Q}`, z.enum(['inline', 'lambda']), 'inline',
    `Where the ${q} queue's jobs run: in the worker, or by invoking the job function.`)),
  healthPort: env('WORKER_HEALTH_PORT', int(0, 65_535), 3_100,
    'Port of the health server (and the queue dashboard); 0: any free port.'),
  shutdownTimeoutMs: env('WORKER_SHUTDOWN_TIMEOUT_MS', int(0, 600_000), 25_000,
    'How long a stopping worker lets running jobs finish before it leaves them to be stalled.'),
  lockDurationMs: env('WORKER_LOCK_DURATION_MS', int(1_000, 3_600_000), 30_000,
    'How long a job stays locked to a worker that stopped renewing it (crash, SIGKILL).'),
  stalledIntervalMs: env('WORKER_STALLED_INTERVAL_MS', int(500, 3_600_000), 30_000,
    'How often workers look for jobs whose lock expired and hand them out again.'),
  maxStalledCount: env('WORKER_MAX_STALLED_COUNT', int(1, 100), 3,
    'How often a job may stall (its worker died or was stopped past the drain bound) before it fails.'),
  livenessMaxLagMs: env('WORKER_LIVENESS_MAX_LAG_MS', int(100, 600_000), 30_000,
    'Event-loop delay past which GET /live answers 503, so the platform replaces a hung worker.'),
  metricsEveryMs: env('WORKER_METRICS_EVERY_MS', int(0, 3_600_000), 60_000,
    'How often queue depths go to CloudWatch as EMF lines on stdout (namespace Agenda); 0: never.'),
  requireNoEviction: env('WORKER_REQUIRE_NOEVICTION', bool, true,
    'Refuse to start unless Redis evicts nothing (maxmemory-policy noeviction): evicted job keys are lost jobs.'),
  outboxRelayEveryMs: env('OUTBOX_RELAY_EVERY_MS', int(1_000, 3_600_000), 10_000,
    'How often the relay republishes outbox rows a failed enqueue left behind.'),
  controlExpiryScanEveryMs: env('CONTROL_EXPIRY_SCAN_EVERY_MS', int(10_000, 86_400_000), 3_600_000,
    'How often session packages are scanned for approaching expiry.'),
  renewalScanPattern: env('RENEWAL_SCAN_PATTERN', z.string().refine(isHourlyPattern, HOURLY), '15 * * * *',
    'When renewal passes run: a cron pattern read in UTC, once every hour.'),
  renewalScanLocalHour: env('RENEWAL_SCAN_LOCAL_HOUR', int(0, 23), 3,
    "The local hour, in each clinic's own zone, of that clinic's daily renewal pass."),
  noShowSweepEveryMs: env('NO_SHOW_SWEEP_EVERY_MS', int(10_000, 86_400_000), 300_000,
    'How often open appointments past their end are swept to no-show (clinics that turned it on).'),
  idempotencyPurgeEveryMs: env('IDEMPOTENCY_PURGE_EVERY_MS', int(10_000, 86_400_000), 600_000,
    'How often expired Idempotency-Key records are deleted.'),
  retentionPurgeEveryMs: env('RETENTION_PURGE_EVERY_MS', int(60_000, 86_400_000), 3_600_000,
    'How often records past their clinic\'s retention, and old job history, are purged in bounded batches.'),
  socketSweepEveryMs: env('SOCKET_SWEEP_EVERY_MS', int(1_000, 86_400_000), 3_600_000,
    'How often socket rows API Gateway has certainly closed (age, idleness, revoked key) are swept.'),
};
