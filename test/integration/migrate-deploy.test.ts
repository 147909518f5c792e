/**
 * Migrations as a deploy step, run the way a deploy runs them: the migrate function built by the
 * deploy's own build (scripts/build-lambda.ts, migrations/ beside it) and run with node from a
 * folder outside the repository, answering a local stand-in for CloudFormation's response URL;
 * and the worker image's `node migrate.js` (scripts/build-worker.ts). Each on a fresh database.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { buildLambda } from '../../scripts/build-lambda';
import { startScratchPostgres } from '../support/scratch-postgres';
import { buildWorkerBundle } from '../support/worker-bundle';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';

const run = promisify(execFile);
const MIGRATIONS = readdirSync(path.join(__dirname, '..', '..', 'prisma', 'migrations'), { withFileTypes: true }).filter((e) => e.isDirectory()).length;

let tmp: string;
let fnDir: string;
let cfn: { server: Server; url: string; answers: Record<string, any>[] };
const databases: string[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'agenda-migrate-deploy-'));
  await buildLambda({ outDir: path.join(tmp, 'lambda'), mapsDir: path.join(tmp, 'maps'), sourcemap: 'none', only: ['migrate'] });
  fnDir = path.join(tmp, 'lambda', 'migrate');
  const answers: Record<string, any>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      answers.push({ method: req.method, path: req.url, contentType: req.headers['content-type'], ...JSON.parse(body) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cfn = { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, answers };
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => cfn.server.close(resolve));
  await withClient(TEST_DIRECT_DATABASE_URL, async (c) => {
    for (const name of databases) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  await rm(tmp, { recursive: true, force: true });
});

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** An empty database, created here as an operator would before the first deploy. */
async function freshDatabase(): Promise<string> {
  const name = `agenda_scratch_deploy_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  databases.push(name);
  await withClient(TEST_DIRECT_DATABASE_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_DIRECT_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const appliedRows = (url: string) =>
  withClient(url, async (c) => (await c.query('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY 1')).rows.length);

/** Invokes the built function with node, outside the repository, as Lambda would; returns CloudFormation's copy of the answer. */
async function invoke(requestType: 'Create' | 'Update' | 'Delete', databaseUrl: string, physicalId?: string): Promise<Record<string, any>> {
  const requestId = randomUUID();
  const event = {
    RequestType: requestType,
    ResponseURL: `${cfn.url}/cfn-response/${requestId}?X-Amz-Signature=abc`,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/agenda-test/1',
    RequestId: requestId,
    LogicalResourceId: 'Migrations',
    ResourceType: 'Custom::Migrations',
    ...(physicalId && { PhysicalResourceId: physicalId }),
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:agenda-test-migrate' },
  };
  const script = `import(${JSON.stringify(path.join(fnDir, 'index.mjs'))}).then((m) => m.handler(JSON.parse(process.env.EVENT), { getRemainingTimeInMillis: () => 60000 }))`;
  const env = { PATH: process.env.PATH, EVENT: JSON.stringify(event), DIRECT_DATABASE_URL: databaseUrl, DATABASE_URL: databaseUrl, STAGE: 'test', LOG_LEVEL: 'WARN', NODE_PATH: '' };
  await run(process.execPath, ['-e', script], { cwd: fnDir, env, timeout: 60_000 });
  const answer = cfn.answers.find((a) => a.RequestId === requestId);
  if (!answer) throw new Error(`no answer for ${requestType}`);
  expect(answer).toMatchObject({ method: 'PUT', path: `/cfn-response/${requestId}?X-Amz-Signature=abc`, StackId: event.StackId, LogicalResourceId: 'Migrations' });
  return answer;
}

it('ships the migrations beside the function', () => {
  expect(readdirSync(path.join(fnDir, 'migrations')).filter((f) => !f.endsWith('.toml'))).toHaveLength(MIGRATIONS);
});

it('Create applies every migration, Update then applies none, Delete changes nothing; each answers SUCCESS', async () => {
  const db = await freshDatabase();
  const created = await invoke('Create', db);
  expect(created).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'agenda-migrations-test', Data: { applied: MIGRATIONS } });
  expect(await appliedRows(db)).toBe(MIGRATIONS);

  const updated = await invoke('Update', db, created.PhysicalResourceId);
  expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'agenda-migrations-test', Data: { applied: 0 } });

  const deleted = await invoke('Delete', db, created.PhysicalResourceId);
  expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'agenda-migrations-test' });
  expect(await appliedRows(db)).toBe(MIGRATIONS);
  expect(await withClient(db, async (c) => (await c.query(`SELECT to_regclass('public.appointments') AS t`)).rows[0].t)).not.toBeNull();
}, 120_000);

it('answers FAILED, without the password, when the database refuses the credentials', async () => {
  const pg = await startScratchPostgres('Very$ecret-pw_42');
  try {
    const wrong = new URL(pg.url);
    wrong.password = 'Wr0ng-pass%word';
    const answer = await invoke('Create', wrong.toString());
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/password authentication failed/);
    expect(answer.Reason).not.toMatch(/Wr0ng|Very\$ecret/);
    expect(JSON.stringify(answer)).not.toMatch(/Wr0ng|Very\$ecret/);
    expect(answer.PhysicalResourceId).toBe('agenda-migrations-test');
  } finally {
    await pg.stop();
  }
}, 60_000);

it("the worker image's `node migrate.js` applies the migrations to a fresh database", async () => {
  const dir = buildWorkerBundle();
  try {
    const db = await freshDatabase();
    const env = { PATH: process.env.PATH, DIRECT_DATABASE_URL: db, NODE_ENV: 'production', NODE_PATH: '', LOG_LEVEL: 'WARN' };
    const first = await run(process.execPath, ['migrate.js'], { cwd: dir, env, timeout: 60_000 });
    expect(first.stdout).toContain(`migrate ${MIGRATIONS} applied, 0 already applied`);
    expect(await appliedRows(db)).toBe(MIGRATIONS);
    const again = await run(process.execPath, ['migrate.js'], { cwd: dir, env, timeout: 60_000 });
    expect(again.stdout).toContain(`migrate 0 applied, ${MIGRATIONS} already applied`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);
