/** The worker's readiness report without the bearer: dependency errors keep what failed, never where. */
import { redactLocations, withRedactedErrors } from '../../lib/platform/health/redact';

describe('redactLocations', () => {
  it.each([
    ['connect ECONNREFUSED 10.0.3.7:5432', 'connect ECONNREFUSED <address>'],
    ['connect ECONNREFUSED ::1:6379', 'connect ECONNREFUSED <address>'],
    ['connect ETIMEDOUT [fd00:ec2::23]:6379', 'connect ETIMEDOUT <address>'],
    ['getaddrinfo ENOTFOUND agenda-db.cluster-abc.us-east-1.rds.amazonaws.com', 'getaddrinfo ENOTFOUND <host>'],
    ['Redis at redis://default:s3cret@cache.internal:6379/0 refused', 'Redis at <url> refused'],
    ['connect ECONNREFUSED localhost:5432', 'connect ECONNREFUSED <host>'],
  ])('%s', (raw, redacted) => {
    expect(redactLocations(raw)).toBe(redacted);
  });

  it('keeps what carries no location', () => {
    for (const text of ['no answer within 2500 ms', 'Database busy: no connection became free within 500 ms (pool max 2)', 'Connection terminated unexpectedly']) {
      expect(redactLocations(text)).toBe(text);
    }
  });

  it('redacts each check of a report and leaves the rest', () => {
    const report = { status: 'unavailable', checks: { database: { status: 'down' as const, latencyMs: 3, error: 'connect ECONNREFUSED 10.1.2.3:5432' }, redis: { status: 'up' as const, latencyMs: 1 } } };
    expect(withRedactedErrors(report)).toEqual({ ...report, checks: { ...report.checks, database: { ...report.checks.database, error: 'connect ECONNREFUSED <address>' } } });
  });
});
