import { ConfigError, parseConfig } from '../../lib/config';

describe('parseConfig', () => {
  it('applies per-profile pool defaults', () => {
    expect(parseConfig({ AGENDA_PROFILE: 'api' }).db).toMatchObject({ poolMax: 2, poolMin: 1 });
    expect(parseConfig({ AGENDA_PROFILE: 'socket' }).db).toMatchObject({ poolMax: 1, poolMin: 0 });
    expect(parseConfig({ AGENDA_PROFILE: 'worker' }).db).toMatchObject({ poolMax: 10 });
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
    expect(parseConfig({ STAGE: 'prod' }).aws.jobFunctionName).toBe('agenda-prod-jobRunner');
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
