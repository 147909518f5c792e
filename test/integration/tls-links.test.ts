/**
 * The TLS that production requires (lib/platform/config/production.ts) really reaches the clients:
 * sslmode=verify-full becomes a verifying `ssl` in the pool and in the migrator's connections, and
 * `?requireTLS=true` in SMTP_URL makes nodemailer refuse a server without STARTTLS. The local
 * PostgreSQL runs without TLS and the sink offers no STARTTLS, so a client that asks for TLS fails
 * where one that does not succeeds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { useSuite } from '../support/suite';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';

const suite = useSuite({
  modules: {
    config: () => import('../../lib/platform/config'),
    pool: () => import('../../lib/platform/db/pool'),
    migrator: () => import('../../lib/platform/db/migrator'),
    mailer: () => import('../../lib/platform/mail/mailer'),
  },
});
const { config, pool, migrator, mailer } = suite.m;

const withSslmode = (url: string, extra: Record<string, string> = {}) => {
  const u = new URL(url);
  for (const [k, v] of Object.entries({ sslmode: 'verify-full', ...extra })) u.searchParams.set(k, v);
  return u.toString();
};
const NO_TLS_SERVER = /does not support SSL/;

describe('PostgreSQL with sslmode=verify-full', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'agenda-tls-'));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it("gives the pool's connections a verifying ssl, with the URL's CA bundle when it names one", async () => {
    const ca = path.join(tmp, 'rds-ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n');
    const url = `postgresql://app:pw@agenda.cluster-abc.us-east-1.rds.amazonaws.com:5432/agenda?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
    const p = await pool.createPool(config.parseConfig({ DATABASE_URL: url }));
    try {
      expect(p.options).toMatchObject({ host: 'agenda.cluster-abc.us-east-1.rds.amazonaws.com', port: 5432, database: 'agenda', ssl: { rejectUnauthorized: true, ca: expect.stringContaining('stand-in') } });
      // As pg itself reads them for each connection it opens.
      const params = (new Client(p.options) as unknown as { connectionParameters: { ssl: unknown } }).connectionParameters;
      expect(params.ssl).toEqual({ rejectUnauthorized: true, ca: expect.stringContaining('stand-in') });
    } finally {
      await p.end();
    }
  });

  it('makes the pool ask for TLS: the local server, which has none, is refused', async () => {
    const plain = await pool.createPool(config.parseConfig({ DATABASE_URL: TEST_DIRECT_DATABASE_URL, DB_POOL_MIN: '0' }));
    const verifying = await pool.createPool(config.parseConfig({ DATABASE_URL: withSslmode(TEST_DIRECT_DATABASE_URL), DB_POOL_MIN: '0' }));
    try {
      await expect(plain.query('SELECT 1')).resolves.toMatchObject({ rowCount: 1 });
      await expect(verifying.query('SELECT 1')).rejects.toThrow(NO_TLS_SERVER);
    } finally {
      await Promise.all([plain.end(), verifying.end()]);
    }
  });

  it('makes the migrator ask for TLS too', async () => {
    const migrationsDir = path.join(__dirname, '..', '..', 'prisma', 'migrations');
    await expect(migrator.migrate({ databaseUrl: withSslmode(TEST_DIRECT_DATABASE_URL), migrationsDir })).rejects.toThrow(NO_TLS_SERVER);
    await expect(migrator.migrate({ databaseUrl: withSslmode(TEST_DIRECT_DATABASE_URL), migrationsDir, createDatabase: true })).rejects.toThrow(NO_TLS_SERVER);
  });
});

describe('SMTP_URL with requireTLS=true', () => {
  let sink: SmtpSink;
  const saved = process.env.SMTP_URL;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.SMTP_URL;
    else process.env.SMTP_URL = saved;
    await sink.close();
  });

  const send = async (smtpUrl: string, to: string) => {
    process.env.SMTP_URL = smtpUrl;
    await suite.reload(); // a new container, so a new transport from the new URL
    return mailer.sendMail({ to, subject: 'TLS check', text: 'x', html: '<p>x</p>', messageId: `<${to}>` });
  };

  it('refuses to send to a server that offers no STARTTLS, where the same URL without it sends', async () => {
    const base = `smtp://127.0.0.1:${sink.port}`;
    await expect(send(`${base}?requireTLS=true`, 'required@example.com')).rejects.toThrow(/STARTTLS/i);
    await expect(send(base, 'plain@example.com')).resolves.toMatchObject({ accepted: ['plain@example.com'] });
    expect(sink.inbox.map((m) => m.to)).toEqual(['plain@example.com']);
  });
});
