import { z } from 'zod';
import { isHourlyPattern } from './hourly-pattern';
import { PROFILES } from './profiles';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const execMode = z.enum(['inline', 'lambda']);

/** The environment contract. Every variable the product reads is named here and nowhere else. */
export const envSchema = z.object({
  AGENDA_PROFILE: z.enum(PROFILES).default('api'),
  // The function's reserved concurrency (serverless.yml sets it beside reservedConcurrency), so
  // /health can show this container's share of the connection budget.
  AGENDA_RESERVED_CONCURRENCY: int(1, 100_000).optional(),
  SERVICE_NAME: z.string().min(1).default('agenda'),
  STAGE: z.string().min(1).default('dev'),

  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/agenda'),
  // `transaction`: DATABASE_URL goes through a transaction pooler (PgBouncer pool_mode=transaction,
  // RDS Proxy), so nothing may rely on session state and the timeouts are set per transaction.
  DB_POOLER: z.enum(['none', 'transaction']).default('none'),
  // A direct (session) connection for what needs one: migrations. Unset: DATABASE_URL.
  DIRECT_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DB_POOL_MAX: int(1, 100),
  DB_POOL_MIN: int(0, 100),
  DB_CONNECT_TIMEOUT_MS: int(100, 60_000),
  DB_STATEMENT_TIMEOUT_MS: int(0, 3_600_000),
  DB_IDLE_IN_TX_TIMEOUT_MS: int(0, 3_600_000),
  DB_IDLE_TIMEOUT_MS: int(0, 3_600_000),
  DB_MAX_LIFETIME_S: int(0, 86_400).default(1800),
  DB_STARTUP_ATTEMPTS: int(1, 20).default(5),
  DB_STARTUP_BASE_DELAY_MS: int(10, 10_000).default(200),

  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_CONNECT_TIMEOUT_MS: int(100, 60_000),
  REDIS_COMMAND_TIMEOUT_MS: int(0, 60_000),
  REDIS_READY_TIMEOUT_MS: int(100, 300_000),
  REDIS_MAX_RECONNECT_DELAY_MS: int(10, 60_000),
  REDIS_RECONNECT_ATTEMPTS: int(0, 10_000),
  // Functions only: after a failed wait for a ready link, Redis calls fail at once for this long (0: never).
  REDIS_DOWN_RETRY_AFTER_MS: int(0, 600_000),
  REDIS_OFFLINE_QUEUE: bool,
  HEALTH_CHECK_TIMEOUT_MS: int(100, 60_000),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_:-]+$/).default('agenda'),
  // PINGs (each after waiting for a ready link) before a queue is created; functions fit them all in REDIS_READY_TIMEOUT_MS.
  QUEUE_CONNECT_ATTEMPTS: int(1, 10).default(3),

  AWS_REGION: z.string().default('us-east-1'),
  LAMBDA_ENDPOINT: z.url().optional(),
  WEBSOCKET_ENDPOINT: z.url().optional(),
  JOB_FUNCTION_NAME: z.string().optional(),
  JOB_FUNCTION_TIMEOUT_MS: int(1_000, 900_000).default(120_000),

  // Per API key, counted in Redis so the budget holds across containers (per container while Redis is
  // unreachable: an in-memory insurance limiter with the same numbers). 0 points disables the limit.
  RATE_LIMIT_POINTS: int(0, 1_000_000),
  RATE_LIMIT_DURATION_S: int(1, 86_400),
  RATE_LIMIT_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_:-]+$/).default('agenda:rl'),
  // Largest request body accepted (bytes, decoded); larger answers 413 before parsing.
  BODY_MAX_BYTES: int(1, 10 * 1024 * 1024).default(64 * 1024),

  ADMIN_SECRET: z.string().min(16).optional(),
  // Read by the logger at import (it must log even an invalid config); listed here to be validated.
  LOG_LEVEL: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']))
    .default('INFO'),

  WORKER_CONCURRENCY_AGENDA: int(1, 200).default(5),
  WORKER_CONCURRENCY_WEBHOOK: int(1, 200).default(8),
  WORKER_CONCURRENCY_NOTIFICATION: int(1, 200).default(5),
  WORKER_CONCURRENCY_RENOVACAO: int(1, 200).default(2),
  WORKER_MODE_AGENDA: execMode.default('inline'),
  WORKER_MODE_WEBHOOK: execMode.default('inline'),
  WORKER_MODE_NOTIFICATION: execMode.default('inline'),
  WORKER_MODE_RENOVACAO: execMode.default('inline'),
  WORKER_HEALTH_PORT: int(0, 65_535).default(3100),
  WORKER_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(25_000),
  WORKER_LOCK_DURATION_MS: int(1_000, 3_600_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: int(500, 3_600_000).default(30_000),
  WORKER_MAX_STALLED_COUNT: int(1, 100).default(3),
  WORKER_REQUIRE_NOEVICTION: bool.default(true),
  OUTBOX_RELAY_EVERY_MS: int(1_000, 3_600_000).default(10_000),
  // Published events still unprocessed this long after their publish are re-driven by the relay, and
  // pending notices and deliveries whose job died are queued again. At least 10 min: longer than a live
  // domain.event job's whole retry schedule (lib/queues/jobs.ts, 8.5 min), so a retrying job is not judged.
  OUTBOX_REDRIVE_AFTER_MS: int(600_000, 604_800_000).default(900_000),
  CONTROL_EXPIRY_SCAN_EVERY_MS: int(10_000, 86_400_000).default(3_600_000),
  CONTROL_EXPIRING_DAYS: int(1, 90).default(7),
  // Automatic no-show (clinics.auto_no_show_after_minutes): sweep interval, and how far back from the due time it looks.
  NO_SHOW_SWEEP_EVERY_MS: int(10_000, 86_400_000).default(300_000),
  // Expired Idempotency-Key records are deleted this often (job idempotency.purge).
  IDEMPOTENCY_PURGE_EVERY_MS: int(10_000, 86_400_000).default(600_000),
  NO_SHOW_LOOKBACK_HOURS: int(1, 2_160).default(168),
  // WebSocket connection rows past API Gateway's limits are swept this often (job sockets.sweep).
  SOCKET_SWEEP_EVERY_MS: int(1_000, 86_400_000).default(3_600_000),
  // Renewal scan (job renewals.scan): a cron pattern (read in UTC) that fires once every hour; each
  // pass scans the clinics whose own local hour is RENEWAL_SCAN_LOCAL_HOUR.
  RENEWAL_SCAN_PATTERN: z
    .string()
    .refine(
      isHourlyPattern,
      'must fire once every hour, e.g. "15 * * * *" (one minute, "*" for hour, day, month and weekday): each pass scans only the clinics whose local hour is RENEWAL_SCAN_LOCAL_HOUR, so an hour without a pass leaves its clinics never scanned',
    )
    .default('15 * * * *'),
  RENEWAL_SCAN_LOCAL_HOUR: int(0, 23).default(3),
  // Packages that ended (or ran out) longer ago than this many local days are not renewed: stored `expired`.
  RENEWAL_LOOKBACK_DAYS: int(1, 3_650).default(30),
  // Webhooks: loopback receivers allowed only for local development and tests (SSRF guard).
  WEBHOOKS_ALLOW_LOOPBACK: bool.default(false),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  // After a secret rotation the previous secret also signs for this long (0: not at all).
  WEBHOOK_SECRET_GRACE_HOURS: int(0, 720).default(24),
  // An endpoint failing continuously this long is disabled on its next failure (120 h = 5 days).
  WEBHOOK_DISABLE_AFTER_HOURS: int(1, 8_760).default(120),
  // Notification e-mail (lib/notifications/mailer.ts): one SMTP transport per container.
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).default('smtp://127.0.0.1:1025'),
  SMTP_FROM: z.string().min(3).default('Agenda <no-reply@agenda.local>'),
  SMTP_TIMEOUT_MS: int(100, 120_000).default(10_000),
  // Queue dashboard (Bull Board, worker/dashboard.ts) on the worker's health port under /admin/queues,
  // behind HTTP basic auth. Without a password it is not mounted at all (never open).
  DASHBOARD_USER: z.string().min(1).max(128).default('admin'),
  DASHBOARD_PASSWORD: z.string().min(12).max(256).optional(),
});

export type Env = z.infer<typeof envSchema>;

/** Settings no longer read, with what replaced them: still set, they fail the config instead of being ignored. */
export const REMOVED_ENV: Readonly<Record<string, string>> = {
  RENEWAL_SCAN_TZ:
    'removed: the renewal pattern is read in UTC and fires every hour, and each pass scans the clinics whose own local hour is RENEWAL_SCAN_LOCAL_HOUR (default 3); unset RENEWAL_SCAN_TZ and set RENEWAL_SCAN_LOCAL_HOUR instead',
};
