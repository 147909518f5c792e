/**
 * The worker's two probes on a real worker process whose database link runs through a TCP proxy
 * (test/support/tcp-proxy.ts): with PostgreSQL cut, at start-up or later, the worker stays alive
 * (`/live` 200, the process keeps running and keeps trying its jobs) and is not ready (`/ready` 503
 * naming the database); once the link is back it becomes ready without a restart and the job that
 * failed meanwhile is processed on a retry. A draining worker stays live while it is not ready.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { enqueueCanaries, readCanaries, waitActive, waitProcessed } from '../support/canary';
import { startWorker, type Worker } from '../support/processes';
import { useSuite } from '../support/suite';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/until';
import { TEST_DATABASE_URL } from '../setup/test-env';

const ADMIN_SECRET = 'worker-probes-test-admin-secret';
const { m } = useSuite({
  env: { ADMIN_SECRET },
  modules: { admin: () => import('../../functions/http/admin'), queues: () => import('../../lib/platform/queues/queues') },
});

/** Fail fast on a cut link: two quick connection tries per attempt, so a job fails in about a second. */
const CUT_FRIENDLY = { DB_STARTUP_ATTEMPTS: '2', DB_STARTUP_BASE_DELAY_MS: '100', DB_CONNECT_TIMEOUT_MS: '1000', HEALTH_CHECK_TIMEOUT_MS: '2000' };

const workers: Worker[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL').catch(() => undefined)));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function databaseProxy(): Promise<TcpProxy> {
  const url = new URL(TEST_DATABASE_URL);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  proxies.push(proxy);
  return proxy;
}

async function probe(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const readyUrl = (w: Worker) => w.healthUrl.replace(/\/health$/, '/ready');
const context = (w: Worker) => () => w.output().slice(-3000);

/** The canary's job on the agenda queue: how many attempts it has made so far. */
async function attemptsMade(canaryId: string): Promise<number> {
  const job = await (await m.queues.getAgendaQueue()).getJob(`canary-${canaryId}`);
  return job?.attemptsMade ?? 0;
}

/** Alive and not ready for several seconds, across at least one failed attempt of a job that needs the database. */
async function staysAliveNotReady(worker: Worker, canaryId: string): Promise<void> {
  await until('a failed attempt of the canary job', () => attemptsMade(canaryId), (n) => n >= 1, { timeoutMs: 20_000, context: context(worker) });
  const pid = worker.proc.pid;
  for (let i = 0; i < 4; i++) {
    await sleep(1_000);
    expect(worker.proc.exitCode).toBeNull();
    expect((await probe(worker.liveUrl)).status).toBe(200);
    const ready = await probe(readyUrl(worker));
    expect(ready.status).toBe(503);
    expect(ready.body.down).toContain('database');
    // What failed, never where: no address in the error without the operator's bearer; the same report with it.
    expect(JSON.stringify(ready.body.checks.database.error ?? '')).not.toMatch(/127\.0\.0\.1|localhost|::1/);
    const asAdmin = await probe(readyUrl(worker), { authorization: `Bearer ${ADMIN_SECRET}` });
    expect([asAdmin.status, asAdmin.body.down]).toEqual([503, expect.arrayContaining(['database'])]);
  }
  expect(worker.proc.pid).toBe(pid);
  expect((await readCanaries([canaryId]))[0]?.status).toBe('queued');
}

async function becomesReady(worker: Worker, canaryId: string): Promise<void> {
  const ready = await until('ready again', () => probe(readyUrl(worker)), (r) => r.status === 200, { timeoutMs: 30_000, context: context(worker) });
  expect(ready.body.status).toBe('ok');
  const [row] = await waitProcessed([canaryId], 30_000);
  expect(row!.attempts).toBeGreaterThanOrEqual(2); // the first attempt failed while the database was cut
  expect(worker.proc.exitCode).toBeNull();
}

it('with its database cut, stays alive and not ready, then becomes ready without a restart', async () => {
  const proxy = await databaseProxy();
  const worker = await startWorker({ ...CUT_FRIENDLY, DATABASE_URL: proxy.urlFor(TEST_DATABASE_URL) });
  workers.push(worker);
  expect((await probe(readyUrl(worker))).status).toBe(200);
  expect(await probe(worker.liveUrl)).toEqual({ status: 200, body: { status: 'alive', eventLoopLagMs: expect.any(Number) } });

  await proxy.down();
  const notReady = await until('not ready', () => probe(readyUrl(worker)), (r) => r.status === 503, { timeoutMs: 15_000 });
  expect(notReady.body).toMatchObject({ status: 'unavailable', down: ['database'] });
  // /health is the same readiness answer.
  expect((await probe(worker.healthUrl)).status).toBe(503);
  const [id] = await enqueueCanaries(m.admin.createCanary, ADMIN_SECRET, 1, 0);
  await staysAliveNotReady(worker, id!);

  await proxy.up();
  await becomesReady(worker, id!);
}, 120_000);

it('starts with its database down, alive and not ready, and becomes ready when it comes back', async () => {
  const proxy = await databaseProxy();
  await proxy.down();
  const worker = await startWorker({ ...CUT_FRIENDLY, DATABASE_URL: proxy.urlFor(TEST_DATABASE_URL) }, 'source', 'live');
  workers.push(worker);
  const notReady = await until('started, not ready', () => probe(readyUrl(worker)), (r) => r.body.status === 'unavailable', { timeoutMs: 15_000 });
  expect(notReady).toMatchObject({ status: 503, body: { down: ['database'] } });
  const [id] = await enqueueCanaries(m.admin.createCanary, ADMIN_SECRET, 1, 0);
  await staysAliveNotReady(worker, id!);

  await proxy.up();
  await becomesReady(worker, id!);
  expect(worker.output()).toContain('worker.database_unavailable');
  await until('the start-up check done', () => worker.output(), (out) => out.includes('worker.database_ready'), { timeoutMs: 15_000 });
}, 120_000);

it('while draining, answers live and not ready', async () => {
  const worker = await startWorker();
  workers.push(worker);
  const ids = await enqueueCanaries(m.admin.createCanary, ADMIN_SECRET, 1, 3_000);
  await waitActive(await m.queues.getAgendaQueue(), 1);
  const exited = new Promise<number | null>((resolve) => worker.proc.once('exit', (code) => resolve(code)));
  process.kill(-worker.proc.pid!, 'SIGTERM'); // the process group, as stop() does
  const draining = await until('draining', () => probe(readyUrl(worker)), (r) => r.body.status === 'draining', { timeoutMs: 5_000 });
  expect(draining.status).toBe(503);
  expect((await probe(worker.liveUrl)).status).toBe(200);
  expect(await exited).toBe(0);
  expect((await waitProcessed(ids))[0]!.attempts).toBe(1);
}, 60_000);
