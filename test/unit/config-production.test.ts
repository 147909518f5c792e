import { ConfigError, parseConfig } from '../../lib/platform/config';

/** A production environment with nothing to refuse; each case below spoils one thing. */
const SAFE = {
  STAGE: 'prod',
  DATABASE_URL: 'postgresql://app:s3cr3t-pw@agenda.cluster-abc.us-east-1.rds.amazonaws.com:5432/agenda?sslmode=verify-full',
  REDIS_URL: 'rediss://:s3cr3t-pw@master.agenda.abc.use1.cache.amazonaws.com:6379',
  SMTP_URL: 'smtps://user:s3cr3t-pw@email-smtp.us-east-1.amazonaws.com:465',
  SMTP_FROM: 'Agenda <no-reply@clinic.example.com>',
  ADMIN_SECRET: 'a'.repeat(32),
  DASHBOARD_USER: 'ops',
  DASHBOARD_PASSWORD: 'a-long-dashboard-password',
  KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d',
};

function issuesOf(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.message).not.toContain('s3cr3t');
    return err.issues;
  }
  return [];
}

const NOT_VERIFIED = /sslmode=verify-full .*RDS needs sslmode=verify-full plus its CA/;

describe('production stage (STAGE other than dev or test)', () => {
  it('parses a fully safe production environment', () => {
    expect(issuesOf(SAFE)).toEqual([]);
    expect(issuesOf({ ...SAFE, STAGE: 'staging', SMTP_URL: 'smtp://mail.example.com:587?requireTLS=true', DIRECT_DATABASE_URL: SAFE.DATABASE_URL })).toEqual([]);
    // What is unset is not judged: no dashboard, no admin routes.
    expect(issuesOf({ ...SAFE, DASHBOARD_PASSWORD: undefined, DASHBOARD_USER: undefined, ADMIN_SECRET: undefined })).toEqual([]);
  });

  it.each<[string, Record<string, string>, RegExp[]]>([
    ['a database on localhost', { DATABASE_URL: 'postgresql://app@localhost:5432/agenda?sslmode=verify-full' }, [/^DATABASE_URL: points at localhost, this machine/]],
    ['a database on 127.0.0.2', { DATABASE_URL: 'postgresql://app@127.0.0.2/agenda?sslmode=verify-full' }, [/^DATABASE_URL: points at 127\.0\.0\.2/]],
    ['a database on ::1', { DATABASE_URL: 'postgresql://app@[::1]:5432/agenda?sslmode=verify-full' }, [/^DATABASE_URL: points at ::1/]],
    ['a database on a mapped loopback', { DATABASE_URL: 'postgresql://app@[::ffff:127.0.0.1]/agenda?sslmode=verify-full' }, [/^DATABASE_URL: points at ::ffff:7f00:1/]],
    ['a database without sslmode', { DATABASE_URL: 'postgresql://app@db.example.com/agenda' }, [/^DATABASE_URL: no sslmode does not verify/]],
    ['a database with sslmode=require', { DATABASE_URL: 'postgresql://app@db.example.com/agenda?sslmode=require' }, [NOT_VERIFIED]],
    ['a database with sslmode=no-verify', { DATABASE_URL: 'postgresql://app@db.example.com/agenda?sslmode=no-verify' }, [/^DATABASE_URL: sslmode=no-verify does not verify/]],
    ['a direct database URL on the loopback, without TLS', { DIRECT_DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/agenda' }, [/^DIRECT_DATABASE_URL: points at 127\.0\.0\.1/, /^DIRECT_DATABASE_URL: no sslmode/]],
    ['Redis without TLS', { REDIS_URL: 'redis://cache.example.com:6379' }, [/^REDIS_URL: redis:\/\/ sends commands and the password in clear: use rediss:\/\//]],
    ['Redis on the loopback', { REDIS_URL: 'rediss://localhost:6380' }, [/^REDIS_URL: points at localhost/]],
    ['Redis Cluster nodes without TLS (each issue once)', { REDIS_CLUSTER_NODES: 'redis://n1.example.com:6379,redis://n2.example.com:6379' }, [/^REDIS_CLUSTER_NODES: redis:\/\/ sends commands/]],
    ['a Redis Cluster node on the loopback', { REDIS_CLUSTER_NODES: 'rediss://n1.example.com:6379,rediss://127.0.0.1:7000' }, [/^REDIS_CLUSTER_NODES: points at 127\.0\.0\.1/]],
    ['SMTP without required TLS', { SMTP_URL: 'smtp://mail.example.com:587' }, [/^SMTP_URL: smtp:\/\/ without requireTLS=true/]],
    ['SMTP with requireTLS=false', { SMTP_URL: 'smtp://mail.example.com:587?requireTLS=false' }, [/^SMTP_URL: smtp:\/\/ without requireTLS=true/]],
    ['SMTP accepting any certificate', { SMTP_URL: 'smtps://mail.example.com?tls.rejectUnauthorized=false' }, [/^SMTP_URL: tls\.rejectUnauthorized=false accepts any certificate/]],
    ['the development mail sink', { SMTP_URL: 'smtp://127.0.0.1:1025' }, [/^SMTP_URL: points at 127\.0\.0\.1.*development sink/, /^SMTP_URL: smtp:\/\/ without requireTLS/]],
    ['the development sender', { SMTP_FROM: 'Agenda <no-reply@agenda.local>' }, [/^SMTP_FROM: the development sender/]],
    ['loopback webhooks', { WEBHOOKS_ALLOW_LOOPBACK: 'true' }, [/^WEBHOOKS_ALLOW_LOOPBACK: true lets webhook deliveries reach this machine/]],
    ['no rate limit', { RATE_LIMIT_POINTS: '0' }, [/^RATE_LIMIT_POINTS: 0 turns the per-key rate limit off/]],
    ['the dashboard user "admin"', { DASHBOARD_USER: 'admin' }, [/^DASHBOARD_USER: the default "admin"/]],
    ['the default dashboard user', { DASHBOARD_USER: '' }, [/^DASHBOARD_USER: the default "admin"/]],
    ['a short admin secret', { ADMIN_SECRET: 'a'.repeat(31) }, [/^ADMIN_SECRET: shorter than 32 characters/]],
    ['a local Lambda endpoint', { LAMBDA_ENDPOINT: 'http://localhost:3002' }, [/^LAMBDA_ENDPOINT: points at localhost/]],
    ['a local WebSocket endpoint', { WEBSOCKET_ENDPOINT: 'http://127.0.0.1:3001' }, [/^WEBSOCKET_ENDPOINT: points at 127\.0\.0\.1/]],
    ['a local SSM stand-in', { SSM_ENDPOINT: 'https://127.0.0.1:4566' }, [/^SSM_ENDPOINT: points at 127\.0\.0\.1/]],
    ['secrets over plain HTTP', { SECRETS_MANAGER_ENDPOINT: 'http://vpce-1.secretsmanager.us-east-1.vpce.amazonaws.com' }, [/^SECRETS_MANAGER_ENDPOINT: secrets would travel over plain HTTP/]],
    ['no KMS key (the local key wrapping the data keys)', { KMS_KEY_ID: '', DATA_KEY_ENCRYPTION_KEY: 'c2VjcmV0LWtleS1vZi0zMi1ieXRlcy1mb3ItdGVzdHM=' }, [/^KMS_KEY_ID: unset: production wraps data keys with AWS KMS/]],
    ['a local KMS stand-in', { KMS_ENDPOINT: 'http://127.0.0.1:4566' }, [/^KMS_ENDPOINT: points at 127\.0\.0\.1/, /^KMS_ENDPOINT: secrets would travel over plain HTTP/]],
  ])('refuses %s, naming the variable and why', (_what, spoil, expected) => {
    const issues = issuesOf({ ...SAFE, ...spoil });
    expect(issues).toEqual(expected.map((r) => expect.stringMatching(r)));
  });

  it('names every development default at once when a production stage gets none of its settings', () => {
    const issues = issuesOf({ STAGE: 'prod', DASHBOARD_PASSWORD: 'a-long-dashboard-password', WEBHOOKS_ALLOW_LOOPBACK: 'true', RATE_LIMIT_POINTS: '0', ADMIN_SECRET: 'dev-0123456789abcdef' });
    expect(issues.map((i) => i.split(':')[0])).toEqual([
      'DATABASE_URL', 'DATABASE_URL', 'REDIS_URL', 'REDIS_URL', 'SMTP_URL', 'SMTP_URL', 'SMTP_FROM',
      'WEBHOOKS_ALLOW_LOOPBACK', 'RATE_LIMIT_POINTS', 'DASHBOARD_USER', 'ADMIN_SECRET', 'KMS_KEY_ID',
    ]);
    expect(() => parseConfig({ STAGE: 'prod' })).toThrow(/^Invalid configuration: DATABASE_URL: points at 127\.0\.0\.1/);
  });
});

it('judges the cluster nodes instead of REDIS_URL on a cluster', () => {
  const { REDIS_URL: _unused, ...rest } = SAFE;
  expect(issuesOf({ ...rest, REDIS_CLUSTER_NODES: 'rediss://:s3cr3t-pw@n1.example.com:6379,rediss://:s3cr3t-pw@n2.example.com:6379' })).toEqual([]);
});

describe('development stages', () => {
  it.each(['dev', 'test', undefined])('STAGE=%s accepts the development defaults and switches', (stage) => {
    const env = { STAGE: stage, WEBHOOKS_ALLOW_LOOPBACK: 'true', RATE_LIMIT_POINTS: '0', DASHBOARD_PASSWORD: 'a-long-dashboard-password', ADMIN_SECRET: 'dev-0123456789abcdef', LAMBDA_ENDPOINT: 'http://localhost:3002' };
    const config = parseConfig(env);
    expect(config).toMatchObject({ stage: stage ?? 'dev', db: { url: 'postgresql://postgres@127.0.0.1:5432/agenda' }, redis: { url: 'redis://127.0.0.1:6379' }, mail: { smtpUrl: 'smtp://127.0.0.1:1025' } });
  });
});
