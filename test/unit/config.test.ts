import { ConfigError, parseConfig } from '../../lib/platform/config';
import { PROFILE_DEFAULTS } from '../../lib/platform/config/profiles';
import { QUEUE_NAMES } from '../../lib/platform/config/queue-names';
import { SECRET_VARIABLES, secretReferences } from '../../lib/platform/config/references';
import { VARIABLES } from '../../lib/platform/config/schema';

describe('parseConfig', () => {
  it('applies per-profile pool defaults', () => {
    expect(parseConfig({ AGENDA_PROFILE: 'api' }).db).toMatchObject({ poolMax: 2, poolMin: 1 });
    expect(parseConfig({ AGENDA_PROFILE: 'socket' }).db).toMatchObject({ poolMax: 1, poolMin: 0 });
    expect(parseConfig({ AGENDA_PROFILE: 'worker' }).db).toMatchObject({ poolMax: 10 });
  });

  it('refuses a blank AGENDA_PROFILE rather than taking the functions\' defaults for it', () => {
    expect(() => parseConfig({ AGENDA_PROFILE: '' })).toThrow(new ConfigError(['AGENDA_PROFILE: expected one of api, socket, worker']));
    expect(parseConfig({}).profile).toBe('api');
  });

  it('lists each profile as itself in PROFILE_DEFAULTS', () => {
    expect(Object.fromEntries(Object.entries(PROFILE_DEFAULTS).map(([p, d]) => [p, d.AGENDA_PROFILE]))).toEqual({ api: 'api', socket: 'socket', worker: 'worker' });
  });

  it('lets the environment override a profile default', () => {
    expect(parseConfig({ AGENDA_PROFILE: 'api', DB_POOL_MAX: '4' }).db.poolMax).toBe(4);
  });

  it('fails fast in functions and waits in the worker', () => {
    const api = parseConfig({ AGENDA_PROFILE: 'api' }).redis;
    const worker = parseConfig({ AGENDA_PROFILE: 'worker' }).redis;
    expect(api).toMatchObject({ offlineQueue: false });
    expect(api.commandTimeoutMs).toBeGreaterThan(0);
    expect(api.readyTimeoutMs).toBeLessThan(3000);
    // The worker gives up after 15 failed reconnects in a row (then exits 75, worker/main.ts) and
    // never fails fast; functions remember an outage for a few seconds instead of waiting per call.
    expect(worker).toMatchObject({ offlineQueue: true, commandTimeoutMs: 0, reconnectAttempts: 15, downRetryAfterMs: 0 });
    expect(api.downRetryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(api.downRetryAfterMs).toBeLessThanOrEqual(30_000);
    expect(parseConfig({ AGENDA_PROFILE: 'socket' }).redis.downRetryAfterMs).toBe(api.downRetryAfterMs);
    expect(parseConfig({ AGENDA_PROFILE: 'api', REDIS_DOWN_RETRY_AFTER_MS: '0' }).redis.downRetryAfterMs).toBe(0);
  });

  it('names every invalid variable', () => {
    expect(() => parseConfig({ DB_POOL_MAX: 'many', REDIS_URL: 'http://x' })).toThrow(
      expect.objectContaining({
        issues: expect.arrayContaining([expect.stringMatching(/^DB_POOL_MAX/), expect.stringMatching(/^REDIS_URL/)]),
      }),
    );
  });

  it('rejects an unknown profile and min above max', () => {
    expect(() => parseConfig({ AGENDA_PROFILE: 'batch' })).toThrow(ConfigError);
    expect(() => parseConfig({ DB_POOL_MIN: '3', DB_POOL_MAX: '2' })).toThrow(/DB_POOL_MIN/);
  });

  it("keeps the worker's default concurrency within what its pool serves (worker/main.ts warns past 2 jobs per connection)", () => {
    const { worker, db } = parseConfig({ AGENDA_PROFILE: 'worker' });
    const slots = Object.values(worker.concurrency).reduce((n, c) => n + c, 0);
    expect(slots).toBeLessThanOrEqual(db.poolMax * 2);
  });

  it('derives the job function name from service and stage', () => {
    expect(parseConfig({ STAGE: 'test' }).aws.jobFunctionName).toBe('agenda-test-jobRunner');
  });
});

describe('parseConfig, logging and health bounds', () => {
  it('accepts log levels in any case', () => {
    expect(() => parseConfig({ LOG_LEVEL: 'debug' })).not.toThrow();
    expect(() => parseConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('bounds a function health check well under 3 s and gives the worker longer', () => {
    expect(parseConfig({ AGENDA_PROFILE: 'api' }).healthCheckTimeoutMs).toBeLessThan(3000);
    expect(parseConfig({ AGENDA_PROFILE: 'worker' }).healthCheckTimeoutMs).toBeGreaterThan(3000);
  });
});

describe('parseConfig, renewal scan', () => {
  const hourly = /^RENEWAL_SCAN_PATTERN: must fire once every hour.*RENEWAL_SCAN_LOCAL_HOUR/;

  it('takes only a pattern firing once every hour: each pass scans just the clinics at their local hour', () => {
    expect(parseConfig({}).worker.renewalScanPattern).toBe('15 * * * *');
    for (const ok of ['0 * * * *', '59 * * * *', '30 15 * * * *', ' 5  * * * * ']) {
      expect(parseConfig({ RENEWAL_SCAN_PATTERN: ok }).worker.renewalScanPattern).toBe(ok);
    }
    // The old daily default, and patterns that skip hours, fire more than once an hour or are malformed.
    for (const bad of ['15 3 * * *', '15 */2 * * *', '15 * 1 * *', '15 * * 1 *', '15 * * * 1-5', '*/15 * * * *', '0,30 * * * *', '60 * * * *', '15 * * *', '0 15 * * * * *', '0 0 15 * * *']) {
      let issues: string[] = [];
      try {
        parseConfig({ RENEWAL_SCAN_PATTERN: bad });
      } catch (err) {
        issues = (err as ConfigError).issues;
      }
      expect({ bad, issues }).toEqual({ bad, issues: [expect.stringMatching(hourly)] });
    }
  });

  it('refuses the removed RENEWAL_SCAN_TZ, naming what replaced it, alongside any other issue', () => {
    expect(() => parseConfig({ RENEWAL_SCAN_TZ: 'America/Sao_Paulo' })).toThrow(/RENEWAL_SCAN_TZ: removed.*set RENEWAL_SCAN_LOCAL_HOUR instead/);
    expect(() => parseConfig({ RENEWAL_SCAN_TZ: 'America/Sao_Paulo', RENEWAL_SCAN_PATTERN: '15 3 * * *' })).toThrow(
      expect.objectContaining({ issues: [expect.stringMatching(/^RENEWAL_SCAN_TZ: removed/), expect.stringMatching(hourly)] }),
    );
    // Set but empty is unset, as for every variable.
    expect(() => parseConfig({ RENEWAL_SCAN_TZ: '' })).not.toThrow();
  });
});

describe('parseConfig, transaction pooler', () => {
  it('assumes a direct connection unless told otherwise, and migrates through DATABASE_URL then', () => {
    const { db } = parseConfig({ DATABASE_URL: 'postgresql://app@db:5432/agenda' });
    expect(db).toMatchObject({ pooler: 'none', url: 'postgresql://app@db:5432/agenda', sessionUrl: 'postgresql://app@db:5432/agenda' });
  });

  it('takes DB_POOLER=transaction and sends sessions to DIRECT_DATABASE_URL', () => {
    const { db } = parseConfig({
      DB_POOLER: 'transaction',
      DATABASE_URL: 'postgresql://app@pgbouncer:6432/agenda',
      DIRECT_DATABASE_URL: 'postgres://app@db:5432/agenda',
    });
    expect(db).toMatchObject({ pooler: 'transaction', url: 'postgresql://app@pgbouncer:6432/agenda', sessionUrl: 'postgres://app@db:5432/agenda' });
  });

  it('refuses an unknown pooler mode and a DIRECT_DATABASE_URL that is not PostgreSQL', () => {
    expect(() => parseConfig({ DB_POOLER: 'session' })).toThrow(/DB_POOLER/);
    expect(() => parseConfig({ DIRECT_DATABASE_URL: 'mysql://db/agenda' })).toThrow(/DIRECT_DATABASE_URL/);
  });
});

describe('parseConfig, Redis Cluster', () => {
  const issues = (env: Record<string, string>): string[] => {
    try {
      parseConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.issues;
      throw err;
    }
  };
  const NODES = ' rediss://app:s3cret@n1.cache:6379 , rediss://app:s3cret@n2.cache:6379 ';

  it('keeps one server and the plain prefix unless REDIS_CLUSTER_NODES is set, so existing keys stay where they are', () => {
    const { redis, queues } = parseConfig({});
    expect({ nodes: redis.clusterNodes, prefix: queues.prefix }).toEqual({ nodes: undefined, prefix: 'agenda' });
  });

  it('takes the node list, trimmed, and then hash-tags the default prefix', () => {
    const { redis, queues } = parseConfig({ REDIS_CLUSTER_NODES: NODES });
    expect(redis.clusterNodes).toEqual(['rediss://app:s3cret@n1.cache:6379', 'rediss://app:s3cret@n2.cache:6379']);
    expect(queues.prefix).toBe('{agenda}');
  });

  it('refuses a prefix without a hash tag on a cluster, naming QUEUE_PREFIX and why', () => {
    expect(issues({ REDIS_CLUSTER_NODES: NODES, QUEUE_PREFIX: 'agenda' })).toEqual([
      expect.stringMatching(/^QUEUE_PREFIX \(agenda\) needs a \{hash tag\}, e\.g\. \{agenda\}, when REDIS_CLUSTER_NODES is set: .*one slot/),
    ]);
    expect(issues({ REDIS_CLUSTER_NODES: NODES, QUEUE_PREFIX: 'prod:{agenda}' })).toEqual([]);
  });

  it.each(['{agenda}', 'prod:{agenda}', '{a-1_b:c}x', 'agenda'])('accepts the prefix %s', (prefix) => {
    expect(parseConfig({ QUEUE_PREFIX: prefix }).queues.prefix).toBe(prefix);
  });

  it.each(['{}', '{a}{b}', '{a', 'a}', '{a b}', '{{a}}'])('refuses the prefix %s', (prefix) => {
    expect(issues({ QUEUE_PREFIX: prefix })).toEqual([expect.stringMatching(/^QUEUE_PREFIX: expected .*hash tag/)]);
  });

  it('refuses node URLs of mixed schemes or of another kind, without repeating a password', () => {
    const mixed = issues({ REDIS_CLUSTER_NODES: 'redis://:s3cret@n1:7000,rediss://:s3cret@n2:7000' });
    expect(mixed).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: .*same scheme/)]);
    expect(issues({ REDIS_CLUSTER_NODES: 'redis://n1:7000,http://n2:7000' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES\.1: expected a URL starting redis/)]);
    expect(issues({ REDIS_CLUSTER_NODES: ' , ' })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: expected at least one/)]);
    expect(mixed.join()).not.toContain('s3cret');
  });
});

describe('parseConfig, the table of variables', () => {
  /** A valid value other than the default, and an invalid one (none: every non-empty string is valid). */
  const SAMPLES: Record<string, [valid: string, invalid?: string]> = {
    AGENDA_PROFILE: ['worker', 'batch'],
    AGENDA_RESERVED_CONCURRENCY: ['10', '0'],
    SERVICE_NAME: ['clinic'],
    // A production stage also needs a production environment (config-production.test.ts).
    STAGE: ['test'],
    LOG_LEVEL: ['debug', 'loud'],
    HEALTH_CHECK_TIMEOUT_MS: ['1000', '50'],
    ADMIN_SECRET: ['a-secret-of-24-characters', 'short'],
    BODY_MAX_BYTES: ['1024', '0'],
    RATE_LIMIT_POINTS: ['0', '-1'],
    RATE_LIMIT_DURATION_S: ['60', '0'],
    RATE_LIMIT_KEY_PREFIX: ['other:rl', 'has space'],
    RATE_LIMIT_CLINIC_POINTS: ['1000', '5000001'],
    API_KEYS_PER_CLINIC_MAX: ['5', '0'],
    REALTIME_TICKET_TTL_S: ['30', '4'],
    AWS_REGION: ['eu-west-1'],
    LAMBDA_ENDPOINT: ['http://localhost:3002', 'not a url'],
    WEBSOCKET_ENDPOINT: ['https://ws.example.com/dev', 'nope'],
    SSM_ENDPOINT: ['http://localhost:4566', 'ssm'],
    SECRETS_MANAGER_ENDPOINT: ['http://localhost:4566', 'sm'],
    KMS_ENDPOINT: ['http://localhost:4566', 'kms'],
    KMS_KEY_ID: ['alias/agenda'],
    DATA_KEY_ENCRYPTION_KEY: ['c2VjcmV0LWtleS1vZi0zMi1ieXRlcy1mb3ItdGVzdHM=', 'dG9vLXNob3J0'],
    JOB_FUNCTION_NAME: ['runner'],
    JOB_FUNCTION_TIMEOUT_MS: ['60000', '900001'],
    NO_SHOW_LOOKBACK_HOURS: ['24', '0'],
    OUTBOX_REDRIVE_AFTER_MS: ['600000', '510000'],
    CONTROL_EXPIRING_DAYS: ['14', '91'],
    RENEWAL_LOOKBACK_DAYS: ['60', '0'],
    WEBHOOKS_ALLOW_LOOPBACK: ['true', 'yes'],
    WEBHOOK_TIMEOUT_MS: ['5000', '10'],
    WEBHOOK_SECRET_GRACE_HOURS: ['0', '721'],
    WEBHOOK_DISABLE_AFTER_HOURS: ['48', '0'],
    SMTP_URL: ['smtps://mail.example.com:465', 'http://mail'],
    SMTP_FROM: ['Clinic <c@example.com>', 'x'],
    SMTP_TIMEOUT_MS: ['20000', '1'],
    DASHBOARD_USER: ['ops', 'x'.repeat(129)],
    DASHBOARD_PASSWORD: ['a-long-password', 'short'],
    DASHBOARD_PORT: ['0', '65536'],
    DASHBOARD_HOST: ['0.0.0.0', 'x'.repeat(256)],
    DASHBOARD_READ_WRITE: ['true', 'yes'],
    DATABASE_URL: ['postgresql://app@db:5432/agenda', 'mysql://db/agenda'],
    DB_POOLER: ['transaction', 'session'],
    DIRECT_DATABASE_URL: ['postgres://app@direct:5432/agenda', 'redis://db'],
    DB_POOL_MAX: ['4', '0'],
    DB_POOL_MIN: ['2', '101'],
    DB_CONNECT_TIMEOUT_MS: ['5000', '99'],
    DB_STATEMENT_TIMEOUT_MS: ['0', '1.5'],
    DB_IDLE_IN_TX_TIMEOUT_MS: ['0', '-1'],
    DB_IDLE_TIMEOUT_MS: ['1000', 'many'],
    DB_MAX_LIFETIME_S: ['60', '86401'],
    DB_STARTUP_ATTEMPTS: ['2', '21'],
    DB_STARTUP_BASE_DELAY_MS: ['50', '5'],
    REDIS_URL: ['rediss://cache:6380', 'http://cache'],
    REDIS_CLUSTER_NODES: ['redis://n1:7000,redis://n2:7000', 'redis://n1:7000,rediss://n2:7000'],
    REDIS_CONNECT_TIMEOUT_MS: ['500', '99'],
    REDIS_COMMAND_TIMEOUT_MS: ['0', '60001'],
    REDIS_READY_TIMEOUT_MS: ['3000', '99'],
    REDIS_MAX_RECONNECT_DELAY_MS: ['2000', '9'],
    REDIS_RECONNECT_ATTEMPTS: ['0', '10001'],
    REDIS_DOWN_RETRY_AFTER_MS: ['0', '600001'],
    REDIS_OFFLINE_QUEUE: ['true', 'on'],
    QUEUE_PREFIX: ['bench', '{a}{b}'],
    QUEUE_CONNECT_ATTEMPTS: ['1', '11'],
    ...Object.fromEntries(QUEUE_NAMES.map((q) => [`WORKER_CONCURRENCY_${q.toUpperCase()}`, ['1', '201']])),
    ...Object.fromEntries(QUEUE_NAMES.map((q) => [`WORKER_MODE_${q.toUpperCase()}`, ['lambda', 'offline']])),
    WORKER_HEALTH_PORT: ['0', '65536'],
    WORKER_SHUTDOWN_TIMEOUT_MS: ['1000', '600001'],
    WORKER_LOCK_DURATION_MS: ['60000', '999'],
    WORKER_STALLED_INTERVAL_MS: ['1000', '499'],
    WORKER_MAX_STALLED_COUNT: ['1', '0'],
    WORKER_REQUIRE_NOEVICTION: ['false', 'maybe'],
    WORKER_LIVENESS_MAX_LAG_MS: ['5000', '50'],
    WORKER_METRICS_EVERY_MS: ['0', '-1'],
    OUTBOX_RELAY_EVERY_MS: ['5000', '999'],
    CONTROL_EXPIRY_SCAN_EVERY_MS: ['60000', '9999'],
    RENEWAL_SCAN_PATTERN: ['0 * * * *', '15 3 * * *'],
    RENEWAL_SCAN_LOCAL_HOUR: ['4', '24'],
    NO_SHOW_SWEEP_EVERY_MS: ['60000', '9999'],
    IDEMPOTENCY_PURGE_EVERY_MS: ['60000', '9999'],
    SOCKET_SWEEP_EVERY_MS: ['60000', '999'],
    RETENTION_PURGE_EVERY_MS: ['600000', '59999'],
  };
  /** Fields whose default follows the variable, so they change with it. */
  const FOLLOWERS: Record<string, string[]> = {
    DATABASE_URL: ['db.sessionUrl'],
    SERVICE_NAME: ['aws.jobFunctionName'],
    STAGE: ['aws.jobFunctionName'],
    REDIS_CLUSTER_NODES: ['queues.prefix'],
    RATE_LIMIT_POINTS: ['rateLimit.clinicPoints'],
  };
  const leaves = (node: object, path: string[] = []): [string, unknown][] =>
    Object.entries(node).flatMap(([k, v]): [string, unknown][] =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? leaves(v as object, [...path, k])
        : [[[...path, k].join('.'), Array.isArray(v) ? JSON.stringify(v) : v]],
    );
  const base = new Map(leaves(parseConfig({})));
  const changedBy = (env: Record<string, string>) =>
    leaves(parseConfig(env))
      .filter(([path, value]) => base.get(path) !== value)
      .map(([path]) => path)
      .sort();
  const issuesOf = (env: Record<string, string>): string[] => {
    try {
      parseConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.issues;
      throw err;
    }
    return [];
  };
  const rows = VARIABLES.map(({ variable, path }) => ({ name: variable.name, field: path.join('.'), doc: variable.doc }));

  it('has a sample for every variable and none for a variable it lacks, each name once', () => {
    const names = rows.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it.each(rows)('reads $name into config.$field, and nothing else', ({ name, field }) => {
    const changed = changedBy({ [name]: SAMPLES[name]![0] });
    if (name === 'AGENDA_PROFILE') expect(changed).toEqual(expect.arrayContaining([field, 'db.poolMax']));
    else expect(changed).toEqual([field, ...(FOLLOWERS[name] ?? [])].sort());
  });

  it.each(rows.filter((r) => SAMPLES[r.name]![1] !== undefined))('refuses a bad $name with one issue naming it', ({ name }) => {
    expect(issuesOf({ [name]: SAMPLES[name]![1]! })).toEqual([expect.stringMatching(new RegExp(`^${name}: \\S`))]);
  });

  it('documents every variable in one line', () => {
    expect(rows.filter((r) => !/^[^\n]{10,160}$/.test(r.doc)).map((r) => r.name)).toEqual([]);
  });

  it('says what a bad value should look like, and never repeats a secret', () => {
    expect(issuesOf({ DB_POOL_MAX: 'many' })).toEqual(['DB_POOL_MAX: expected a whole number from 1 to 100']);
    expect(issuesOf({ REDIS_URL: 'http://cache' })).toEqual(['REDIS_URL: expected a URL starting redis:// or rediss://']);
    const secrets = { ADMIN_SECRET: 'hunter2', DASHBOARD_PASSWORD: 'hunter2', DATABASE_URL: 'mysql://app:hunter2@db/agenda' };
    const issues = issuesOf(secrets);
    expect(issues.map((i) => i.split(':')[0])).toEqual(expect.arrayContaining(Object.keys(secrets)));
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  it('reports a bad DATABASE_URL once, not again under DIRECT_DATABASE_URL, which follows it', () => {
    expect(issuesOf({ DATABASE_URL: 'mysql://db/agenda' })).toEqual([expect.stringMatching(/^DATABASE_URL: /)]);
  });

  it('gives each profile its own defaults, which PROFILE_DEFAULTS shows to tools such as npm run budget', () => {
    for (const profile of ['api', 'socket', 'worker'] as const) {
      const { db } = parseConfig({ AGENDA_PROFILE: profile });
      expect({ profile, poolMax: String(db.poolMax), poolMin: String(db.poolMin) }).toEqual({
        profile,
        poolMax: PROFILE_DEFAULTS[profile].DB_POOL_MAX,
        poolMin: PROFILE_DEFAULTS[profile].DB_POOL_MIN,
      });
    }
    expect(parseConfig({ AGENDA_PROFILE: 'socket' }).db).toMatchObject({ statementTimeoutMs: 5_000, connectTimeoutMs: 2_000 });
  });
});

describe('parseConfig, secret references', () => {
  const issuesOf = (env: Record<string, string>): string[] => {
    try {
      parseConfig(env);
    } catch (err) {
      return (err as ConfigError).issues;
    }
    return [];
  };

  it('marks the secrets in the table, and only those may hold a reference', () => {
    expect([...SECRET_VARIABLES].sort()).toEqual(['ADMIN_SECRET', 'DASHBOARD_PASSWORD', 'DATABASE_URL', 'DATA_KEY_ENCRYPTION_KEY', 'DIRECT_DATABASE_URL', 'REDIS_CLUSTER_NODES', 'REDIS_URL', 'SMTP_URL']);
  });

  it('refuses to parse an unresolved reference, naming the variable, before any schema judges it', () => {
    expect(issuesOf({ DATABASE_URL: 'aws-sm:prod/db#url', REDIS_URL: 'aws-ssm:/agenda/redis-url' })).toEqual([
      'DATABASE_URL: secret reference not loaded: call loadSecrets() at start-up',
      'REDIS_URL: secret reference not loaded: call loadSecrets() at start-up',
    ]);
    expect(issuesOf({ SMTP_FROM: 'aws-ssm:/agenda/from' })).toEqual([expect.stringMatching(/^SMTP_FROM: not a secret variable, so its aws-ssm:\/aws-sm: reference is never resolved/)]);
  });

  it('reads the reference syntax: a parameter, a secret, a key of a JSON secret; anything else is named', () => {
    expect(secretReferences({ ADMIN_SECRET: 'aws-ssm:/agenda/admin', DATABASE_URL: 'aws-sm:arn:aws:secretsmanager:us-east-1:1:secret:db-Ab12#url', SMTP_URL: 'smtps://m' })).toEqual([
      { variable: 'ADMIN_SECRET', store: 'ssm', id: '/agenda/admin', text: 'aws-ssm:/agenda/admin' },
      { variable: 'DATABASE_URL', store: 'sm', id: 'arn:aws:secretsmanager:us-east-1:1:secret:db-Ab12', key: 'url', text: 'aws-sm:arn:aws:secretsmanager:us-east-1:1:secret:db-Ab12#url' },
    ]);
    for (const bad of ['aws-ssm:', 'aws-ssm:/a#key', 'aws-sm:db#', 'aws-sm:db#a#b']) {
      expect(() => secretReferences({ REDIS_URL: bad })).toThrow(expect.objectContaining({ issues: [expect.stringMatching(/^REDIS_URL: malformed secret reference/)] }));
    }
  });
});
