/**
 * Secret references resolved at cold start, against a local stand-in speaking SSM's and Secrets
 * Manager's own protocol (the real SDK clients, through Powertools, pointed at it). Each test is a
 * new container (a fresh module registry) under the environment it sets.
 */
import { randomUUID } from 'node:crypto';
import { startSecretsStandIn, type SecretsStandIn } from '../support/aws-secrets-stand-in';
import { buildContext, getHealth } from '../support/invoke';
import { useSuite } from '../support/suite';
import { TEST_DATABASE_URL } from '../setup/test-env';

let aws: SecretsStandIn;
const saved = new Map<string, string | undefined>();

beforeAll(async () => {
  aws = await startSecretsStandIn();
});
afterAll(() => aws.close());

const suite = useSuite({
  modules: {
    secrets: () => import('../../lib/platform/secrets/load-secrets'),
    config: () => import('../../lib/platform/config'),
    health: () => import('../../functions/http/health'),
    jobs: () => import('../../functions/jobs/run-job'),
    socket: () => import('../../functions/ws/socket'),
  },
});
const { secrets, config, health, jobs, socket } = suite.m;

/** A new container under `env` (on top of the test environment and the stand-in's endpoints). */
async function container(env: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries({ SSM_ENDPOINT: aws.url, SECRETS_MANAGER_ENDPOINT: aws.url, ...env })) {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  await suite.reload();
}

afterEach(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  saved.clear();
});

const issuesOf = (err: unknown): string[] => (err as { issues?: string[] }).issues ?? [String(err)];
const requestsFor = (id: string) => aws.requests.filter((r) => r.endsWith(` ${id}`)).length;

/** Fresh names per test, so counts at the stand-in are this test's own. */
function names() {
  const n = randomUUID().slice(0, 8);
  return { db: `agenda/${n}/db`, admin: `/agenda/${n}/admin-secret` };
}

describe('loadSecrets', () => {
  it('resolves DATABASE_URL from a JSON key in Secrets Manager and ADMIN_SECRET from a SecureString, after which getConfig() parses', async () => {
    const n = names();
    const adminSecret = `admin-${randomUUID()}-${randomUUID()}`;
    aws.secrets.set(n.db, JSON.stringify({ username: 'app', password: 'pw', url: TEST_DATABASE_URL }));
    aws.parameters.set(n.admin, adminSecret);
    await container({ DATABASE_URL: `aws-sm:${n.db}#url`, ADMIN_SECRET: `aws-ssm:${n.admin}` });

    let refused: unknown;
    try {
      config.getConfig();
    } catch (err) {
      refused = err;
    }
    expect(issuesOf(refused).sort()).toEqual([
      'ADMIN_SECRET: secret reference not loaded: call loadSecrets() at start-up',
      'DATABASE_URL: secret reference not loaded: call loadSecrets() at start-up',
    ]);

    await secrets.loadSecrets();
    expect(config.getConfig()).toMatchObject({ adminSecret, db: { url: TEST_DATABASE_URL } });
    expect(aws.withDecryption.at(-1)).toBe(true);
    // Kept in the config module, never written back where child processes would inherit it.
    expect(process.env.DATABASE_URL).toBe(`aws-sm:${n.db}#url`);
  });

  it('reads each stored secret once per container, however often it is awaited and however many keys are picked', async () => {
    const n = names();
    aws.secrets.set(n.db, JSON.stringify({ pooled: TEST_DATABASE_URL, direct: TEST_DATABASE_URL }));
    aws.parameters.set(n.admin, 'x'.repeat(40));
    const env = { DATABASE_URL: `aws-sm:${n.db}#pooled`, DIRECT_DATABASE_URL: `aws-sm:${n.db}#direct`, ADMIN_SECRET: `aws-ssm:${n.admin}` };
    await container(env);
    await Promise.all(Array.from({ length: 10 }, () => secrets.loadSecrets()));
    for (let i = 0; i < 10; i++) await secrets.loadSecrets();
    expect([requestsFor(n.db), requestsFor(n.admin)]).toEqual([1, 1]);

    await container(env); // a new container reads them again: how a rotated secret arrives
    await secrets.loadSecrets();
    expect([requestsFor(n.db), requestsFor(n.admin)]).toEqual([2, 2]);
  });

  it('fails start-up naming each variable and its reference, never a value, and tries again on the next call', async () => {
    const n = names();
    const dbUrl = `postgresql://app:hunter2-${randomUUID()}@db.internal:5432/agenda`;
    aws.secrets.set(n.db, JSON.stringify({ url: dbUrl }));
    await container({ DATABASE_URL: `aws-sm:${n.db}#url`, DIRECT_DATABASE_URL: `aws-sm:${n.db}#direct`, ADMIN_SECRET: `aws-ssm:${n.admin}` });

    const failed = await secrets.loadSecrets().then(() => undefined, (err: unknown) => err);
    expect(failed).toBeInstanceOf(config.ConfigError);
    expect(issuesOf(failed)).toEqual([
      `ADMIN_SECRET: aws-ssm:${n.admin} could not be read: ParameterNotFound`,
      `DIRECT_DATABASE_URL: aws-sm:${n.db}#direct could not be read: the secret has no string or number under "direct"`,
    ]);
    expect(String((failed as Error).message)).not.toContain('hunter2');
    expect(() => config.getConfig()).toThrow(/secret reference not loaded/);

    aws.parameters.set(n.admin, 'y'.repeat(40));
    process.env.DIRECT_DATABASE_URL = `aws-sm:${n.db}#url`;
    await secrets.loadSecrets();
    expect(config.getConfig()).toMatchObject({ adminSecret: 'y'.repeat(40), db: { url: dbUrl, sessionUrl: dbUrl } });
    expect(requestsFor(n.admin)).toBe(2);
  });

  it('retries a throttled read with backoff', async () => {
    const n = names();
    aws.parameters.set(n.admin, 'z'.repeat(40));
    aws.throttle(n.admin, 2);
    await container({ ADMIN_SECRET: `aws-ssm:${n.admin}` });
    await secrets.loadSecrets();
    expect(config.getConfig().adminSecret).toBe('z'.repeat(40));
    expect(requestsFor(n.admin)).toBe(3);
  });

  it('reads nothing in a container without references', async () => {
    const before = aws.requests.length;
    await container({});
    await secrets.loadSecrets();
    expect(config.getConfig().db.url).toBe(TEST_DATABASE_URL);
    expect(aws.requests.length).toBe(before);
  });
});

describe('the functions load secrets first', () => {
  it('GET /health answers 200 on the database whose URL came from Secrets Manager, one read for many invocations', async () => {
    const n = names();
    aws.secrets.set(n.db, JSON.stringify({ url: TEST_DATABASE_URL }));
    await container({ DATABASE_URL: `aws-sm:${n.db}#url` });
    for (let i = 0; i < 5; i++) {
      const res = await getHealth(health.handler);
      expect({ status: res.status, database: res.body.checks.database.status }).toEqual({ status: 200, database: 'up' });
    }
    expect(requestsFor(n.db)).toBe(1);
  });

  it('GET /health finds the database down when the secret names another: the value really drives the pool', async () => {
    const n = names();
    aws.secrets.set(n.db, JSON.stringify({ url: 'postgresql://postgres@127.0.0.1:1/agenda' }));
    await container({ DATABASE_URL: `aws-sm:${n.db}#url`, DB_STARTUP_ATTEMPTS: '1', DB_CONNECT_TIMEOUT_MS: '500' });
    const res = await getHealth(health.handler);
    expect({ status: res.status, database: res.body.checks.database.status }).toEqual({ status: 503, database: 'down' });
  });

  it('the job and socket functions fail their invocation on an unreadable secret, before any work', async () => {
    const missing = `/agenda/${randomUUID()}/missing`;
    await container({ ADMIN_SECRET: `aws-ssm:${missing}` });
    const job = { queue: 'agenda', name: 'x', id: '1', data: {}, attemptsMade: 0 };
    const message = { requestContext: { eventType: 'MESSAGE', connectionId: 'c1', domainName: 'localhost', stage: 'local' }, body: '{}' };
    for (const call of [() => jobs.handler(job as never, buildContext()), () => socket.handler(message as never, buildContext())]) {
      await expect(call()).rejects.toThrow(`ADMIN_SECRET: aws-ssm:${missing} could not be read`);
    }
  });
});
