import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { enqueueCanaries, readCanaries, waitActive as waitActiveJobs, waitProcessed } from '../support/canary';
import { startWorker, type Worker } from '../support/processes';

const ADMIN_SECRET = 'worker-test-admin-secret';
process.env.ADMIN_SECRET = ADMIN_SECRET;
/** Packages the worker needs at run time, which its bundle must carry inside. */
const BUNDLED = ['@prisma/client', '@prisma/adapter-pg', 'pg', 'ioredis', 'bullmq', '@aws-sdk/client-lambda'];

type Lib = {
  create: typeof import('../../functions/http/admin').createCanary;
  getAgendaQueue: typeof import('../../lib/platform/queues/queues').getAgendaQueue;
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
  getRedis: typeof import('../../lib/platform/redis/client').getRedis;
};
let lib: Lib;
const workers: Worker[] = [];

beforeAll(() => {
  lib = {
    create: require('../../functions/http/admin').createCanary,
    getAgendaQueue: require('../../lib/platform/queues/queues').getAgendaQueue,
    closeAll: require('../../lib/platform/lifecycle/close-all').closeAll,
    getRedis: require('../../lib/platform/redis/client').getRedis,
  };
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL').catch(() => undefined)));
});

afterAll(async () => {
  await lib.closeAll();
});

const enqueue = (count: number, workMs: number) => enqueueCanaries(lib.create, ADMIN_SECRET, count, workMs);
const waitActive = async (min: number) => waitActiveJobs(await lib.getAgendaQueue(), min);

describe('worker container', () => {
  it('processes a job enqueued by a function, inline', async () => {
    const worker = await startWorker();
    workers.push(worker);
    const [id] = await enqueue(1, 0);
    const [row] = await waitProcessed([id!]);
    expect(row).toMatchObject({ status: 'processed', mode: 'inline', attempts: 1 });

    const health = await fetch(worker.healthUrl).then((r) => r.json() as Promise<Record<string, any>>);
    expect(health.status).toBe('ok');
    expect(health.consumers).toHaveLength(4);
    expect(health.checks.redis.evictionPolicy).toBe('noeviction');

    // On the server: the shared client plus one blocking connection per queue, nothing more.
    const redis = await lib.getRedis();
    const clients = String(await redis.call('CLIENT', 'LIST'))
      .split('\n')
      .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '');
    const mine = clients.filter((name) => name === `agenda-worker-${health.container.containerId}`);
    const blocking = clients.filter((name) => name.startsWith(`${process.env.QUEUE_PREFIX}:`));
    expect(mine).toHaveLength(1);
    expect(blocking).toHaveLength(4);
  });

  it('on SIGTERM stops taking jobs, finishes the active ones and loses none', async () => {
    const first = await startWorker({ WORKER_CONCURRENCY_AGENDA: '2' });
    workers.push(first);
    const ids = await enqueue(6, 1_500);
    await waitActive(2);

    const code = await first.stop('SIGTERM');
    expect(code).toBe(0);
    expect(first.output()).toContain('"outcome":"drained"');
    const afterStop = await readCanaries(ids);
    const done = afterStop.filter((r) => r.status === 'processed');
    expect(done.length).toBeGreaterThanOrEqual(2); // the active ones completed
    expect(done.length).toBeLessThan(ids.length); // the rest were left in the queue, not taken

    workers.push(await startWorker({ WORKER_CONCURRENCY_AGENDA: '4' }));
    const rows = await waitProcessed(ids, 30_000);
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  });

  it('runs from the single-file bundle the Dockerfile ships, alone in a directory outside the repo', async () => {
    execFileSync('npm', ['run', '--silent', 'build:worker'], { cwd: path.join(__dirname, '..', '..'), stdio: 'pipe' });
    // What the image holds: dist/worker/ copied on its own (no node_modules, no repo around it).
    const dir = mkdtempSync(path.join(realpathSync(os.tmpdir()), 'agenda-worker-bundle-'));
    try {
      cpSync(path.join(__dirname, '..', '..', 'dist', 'worker'), dir, { recursive: true });
      // Bull Board's page and assets beside it (test/e2e/dashboard.test.ts serves them from a bundle).
      expect(readdirSync(dir).sort()).toEqual(['bull-board-ui', 'main.js', 'main.js.map', 'migrate.js', 'migrate.js.map', 'migrations']);
      // Nothing resolvable from there: a dependency the bundle left out would fail to load.
      const resolvable = execFileSync(
        process.execPath,
        ['-e', `for (const m of ${JSON.stringify(BUNDLED)}) { try { require.resolve(m); console.log(m); } catch {} }`],
        { cwd: dir, env: { ...process.env, NODE_PATH: '' }, encoding: 'utf8' },
      );
      expect(resolvable.trim()).toBe('');

      const worker = await startWorker({}, { bundleDir: dir });
      workers.push(worker);
      const [id] = await enqueue(1, 0);
      expect((await waitProcessed([id!]))[0]).toMatchObject({ status: 'processed', mode: 'inline' });
      expect(await worker.stop('SIGTERM')).toBe(0);
      expect(worker.output()).not.toMatch(/Cannot find module/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
