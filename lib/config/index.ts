import { PROFILE_DEFAULTS, type Profile } from './profiles';
import { envSchema, REMOVED_ENV } from './schema';
import { QUEUE_NAMES, type QueueName } from '../queues/names';

export type { Profile } from './profiles';

/** Thrown at start-up when the environment is invalid; names every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Validated, typed configuration, grouped by the part that uses it. */
export interface Config {
  profile: Profile;
  /** The function's reserved concurrency, when it runs as a Lambda function with one. */
  reservedConcurrency?: number;
  service: string;
  stage: string;
  db: {
    url: string;
    /**
     * `transaction` when `url` goes through a transaction pooler: no session startup parameters, and
     * the timeouts are set inside each transaction instead (lib/db/transaction.ts).
     */
    pooler: 'none' | 'transaction';
    /** Where work that needs a session (migrations) connects: DIRECT_DATABASE_URL, else DATABASE_URL. */
    sessionUrl: string;
    poolMax: number;
    poolMin: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    idleInTransactionTimeoutMs: number;
    idleTimeoutMs: number;
    maxLifetimeSeconds: number;
    startupAttempts: number;
    startupBaseDelayMs: number;
  };
  redis: {
    url: string;
    connectTimeoutMs: number;
    /** 0 means no command timeout (worker: blocking commands must not time out). */
    commandTimeoutMs: number;
    readyTimeoutMs: number;
    maxReconnectDelayMs: number;
    /** Failed reconnects in a row before the client gives up (status `end`); 0 means forever. */
    reconnectAttempts: number;
    /**
     * Functions: how long getRedis() fails at once after a failed wait for a ready link, so one
     * outage costs a request one bounded wait, not one per Redis call. 0 (always in the worker): never.
     */
    downRetryAfterMs: number;
    offlineQueue: boolean;
  };
  queues: { prefix: string; connectAttempts: number };
  aws: {
    region: string;
    lambdaEndpoint?: string;
    /** Management API endpoint for WebSocket pushes; derived from the event when unset (AWS). */
    websocketEndpoint?: string;
    jobFunctionName: string;
    /** The job function's own timeout (serverless.yml); the invoke waits a little longer. */
    jobFunctionTimeoutMs: number;
  };
  /**
   * Requests per API key per window, shared by every container through Redis (0: no limit); while
   * Redis is unreachable, counted per container in memory with the same numbers.
   */
  rateLimit: { points: number; durationSeconds: number; keyPrefix: string };
  http: {
    /** Largest request body accepted, in bytes after base64 decoding. */
    bodyMaxBytes: number;
  };
  adminSecret?: string;
  /** Bound on each dependency check of a health probe, so the probe itself answers in time. */
  healthCheckTimeoutMs: number;
  worker: {
    concurrency: Record<QueueName, number>;
    mode: Record<QueueName, 'inline' | 'lambda'>;
    healthPort: number;
    shutdownTimeoutMs: number;
    /** How long a job stays locked to a worker that stopped renewing it (crash, SIGKILL). */
    lockDurationMs: number;
    /** How often workers look for jobs whose lock expired and hand them out again. */
    stalledIntervalMs: number;
    /** How often a job may stall (its worker died or was stopped past the drain bound) before it fails. */
    maxStalledCount: number;
    requireNoEviction: boolean;
    /** How often the relay republishes outbox rows a failed enqueue left behind. */
    outboxRelayEveryMs: number;
    /** How often session packages are scanned for approaching expiry. */
    controlExpiryScanEveryMs: number;
    /** When renewal passes run: a cron pattern read in UTC, once every hour (RENEWAL_SCAN_PATTERN). */
    renewalScanPattern: string;
    /** The local hour, in each clinic's own zone, at which that clinic's daily renewal pass happens. */
    renewalScanLocalHour: number;
    /** How often open appointments past their end are swept to no-show (clinics that turned it on). */
    noShowSweepEveryMs: number;
    /** How often expired Idempotency-Key records are deleted. */
    idempotencyPurgeEveryMs: number;
    /** How often socket rows API Gateway has certainly closed (age, idleness, revoked key) are swept. */
    socketSweepEveryMs: number;
  };
  /**
   * The no-show sweep leaves appointments that fell due (end + the clinic's delay) longer ago than
   * this alone, so turning the setting on does not rewrite a clinic's old, never-closed agenda.
   */
  noShowLookbackHours: number;
  /**
   * The relay re-drives a published event still unprocessed this long after its publish (at least
   * 10 min: longer than its live job's whole retry schedule, so a job still retrying is judged only
   * once it is done), and queues again a notice or delivery left pending this long whose job died.
   */
  outboxRedriveAfterMs: number;
  /** A package is "expiring" (event `control.expiring`) this many days before its end. */
  controlExpiringDays: number;
  /**
   * The renewal scan leaves packages that ended (or ran out) longer ago than this many local days
   * alone and stores them `expired`, so a first run does not renew a clinic's whole history.
   */
  renewalLookbackDays: number;
  /** Webhook delivery: loopback receivers allowed (local development only), request timeout. */
  webhooks: { allowLoopback: boolean; timeoutMs: number; secretGraceHours: number; disableAfterHours: number };
  /** Notification e-mail: SMTP server URL (smtp:// or smtps://), sender, connection/socket timeout. */
  mail: { smtpUrl: string; from: string; timeoutMs: number };
  /** Bull Board in the worker (DASHBOARD_USER / DASHBOARD_PASSWORD); no password: not mounted. */
  dashboard: { user: string; password?: string };
}

/** Parses an environment into a Config. Pure, so tests can try any environment. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const profileResult = envSchema.shape.AGENDA_PROFILE.safeParse(env.AGENDA_PROFILE);
  if (!profileResult.success) {
    throw new ConfigError([`AGENDA_PROFILE: expected one of api, socket, worker`]);
  }
  const merged = { ...PROFILE_DEFAULTS[profileResult.data], ...definedOnly(env) };
  const removed = Object.entries(REMOVED_ENV).filter(([name]) => name in merged).map(([name, why]) => `${name}: ${why}`);
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success || removed.length > 0) {
    throw new ConfigError([...removed, ...(parsed.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`)]);
  }
  const e = parsed.data;
  if (e.DB_POOL_MIN > e.DB_POOL_MAX) {
    throw new ConfigError([`DB_POOL_MIN (${e.DB_POOL_MIN}) must not exceed DB_POOL_MAX (${e.DB_POOL_MAX})`]);
  }
  const perQueue = <T>(pick: (q: string) => T) =>
    Object.fromEntries(QUEUE_NAMES.map((q) => [q, pick(q.toUpperCase())])) as Record<QueueName, T>;
  return {
    profile: e.AGENDA_PROFILE,
    reservedConcurrency: e.AGENDA_RESERVED_CONCURRENCY,
    service: e.SERVICE_NAME,
    stage: e.STAGE,
    db: {
      url: e.DATABASE_URL,
      pooler: e.DB_POOLER,
      sessionUrl: e.DIRECT_DATABASE_URL ?? e.DATABASE_URL,
      poolMax: e.DB_POOL_MAX,
      poolMin: e.DB_POOL_MIN,
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.DB_IDLE_IN_TX_TIMEOUT_MS,
      idleTimeoutMs: e.DB_IDLE_TIMEOUT_MS,
      maxLifetimeSeconds: e.DB_MAX_LIFETIME_S,
      startupAttempts: e.DB_STARTUP_ATTEMPTS,
      startupBaseDelayMs: e.DB_STARTUP_BASE_DELAY_MS,
    },
    redis: {
      url: e.REDIS_URL,
      connectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      readyTimeoutMs: e.REDIS_READY_TIMEOUT_MS,
      maxReconnectDelayMs: e.REDIS_MAX_RECONNECT_DELAY_MS,
      reconnectAttempts: e.REDIS_RECONNECT_ATTEMPTS,
      downRetryAfterMs: e.REDIS_DOWN_RETRY_AFTER_MS,
      offlineQueue: e.REDIS_OFFLINE_QUEUE,
    },
    queues: { prefix: e.QUEUE_PREFIX, connectAttempts: e.QUEUE_CONNECT_ATTEMPTS },
    aws: {
      region: e.AWS_REGION,
      lambdaEndpoint: e.LAMBDA_ENDPOINT,
      websocketEndpoint: e.WEBSOCKET_ENDPOINT,
      jobFunctionName: e.JOB_FUNCTION_NAME ?? `${e.SERVICE_NAME}-${e.STAGE}-jobRunner`,
      jobFunctionTimeoutMs: e.JOB_FUNCTION_TIMEOUT_MS,
    },
    rateLimit: { points: e.RATE_LIMIT_POINTS, durationSeconds: e.RATE_LIMIT_DURATION_S, keyPrefix: e.RATE_LIMIT_KEY_PREFIX },
    http: { bodyMaxBytes: e.BODY_MAX_BYTES },
    adminSecret: e.ADMIN_SECRET,
    healthCheckTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
    worker: {
      concurrency: perQueue((Q) => e[`WORKER_CONCURRENCY_${Q}` as keyof typeof e] as number),
      mode: perQueue((Q) => e[`WORKER_MODE_${Q}` as keyof typeof e] as 'inline' | 'lambda'),
      healthPort: e.WORKER_HEALTH_PORT,
      shutdownTimeoutMs: e.WORKER_SHUTDOWN_TIMEOUT_MS,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: e.WORKER_MAX_STALLED_COUNT,
      requireNoEviction: e.WORKER_REQUIRE_NOEVICTION,
      outboxRelayEveryMs: e.OUTBOX_RELAY_EVERY_MS,
      controlExpiryScanEveryMs: e.CONTROL_EXPIRY_SCAN_EVERY_MS,
      renewalScanPattern: e.RENEWAL_SCAN_PATTERN,
      renewalScanLocalHour: e.RENEWAL_SCAN_LOCAL_HOUR,
      noShowSweepEveryMs: e.NO_SHOW_SWEEP_EVERY_MS,
      idempotencyPurgeEveryMs: e.IDEMPOTENCY_PURGE_EVERY_MS,
      socketSweepEveryMs: e.SOCKET_SWEEP_EVERY_MS,
    },
    noShowLookbackHours: e.NO_SHOW_LOOKBACK_HOURS,
    outboxRedriveAfterMs: e.OUTBOX_REDRIVE_AFTER_MS,
    controlExpiringDays: e.CONTROL_EXPIRING_DAYS,
    renewalLookbackDays: e.RENEWAL_LOOKBACK_DAYS,
    webhooks: {
      allowLoopback: e.WEBHOOKS_ALLOW_LOOPBACK,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      secretGraceHours: e.WEBHOOK_SECRET_GRACE_HOURS,
      disableAfterHours: e.WEBHOOK_DISABLE_AFTER_HOURS,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.SMTP_FROM, timeoutMs: e.SMTP_TIMEOUT_MS },
    dashboard: { user: e.DASHBOARD_USER, password: e.DASHBOARD_PASSWORD },
  };
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
}

let cached: Config | undefined;

/** The process's configuration, read and validated once on first use. */
export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

