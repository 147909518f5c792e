import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { post } from '../support/invoke';
import { readCanaries, waitProcessed } from '../support/canary';
import { startWorker, type Worker } from '../support/processes';

const ADMIN_SECRET = 'worker-test-admin-secret';
process.env.ADMIN_SECRET = ADMIN_SECRET;
const auth = { headers: { authorization: `Bearer ${ADMIN_SECRET}` } };

type Lib = {
  create: typeof import('../../functions/http/admin-canaries').create;
  getAgendaQueue: typeof import('../../lib/queues/queues').getAgendaQueue;
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
};
let lib: Lib;
const workers: Worker[] = [];

beforeAll(() => {
  lib = {
    create: require('../../functions/http/admin-canaries').create,
    getAgendaQueue: require('../../lib/queues/queues').getAgendaQueue,
    closeAll: require('../../lib/lifecycle/close-all').closeAll,
  };
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL').catch(() => undefined)));
});

afterAll(async () => {
  await lib.closeAll();
});

/** Enqueues canaries through the HTTP function, as a client would. */
async function enqueue(count: number, workMs: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await post(lib.create, '/admin/canaries', { queue: 'agenda', workMs }, auth);
    if (res.status !== 202) throw new Error(JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  return ids;
}

async function waitActive(min: number, timeoutMs = 15_000): Promise<void> {
  const queue = await lib.getAgendaQueue();
  const deadline = Date.now() + timeoutMs;
  while ((await queue.getActiveCount()) < min) {
    if (Date.now() > deadline) throw new Error(`fewer than ${min} active jobs after ${timeoutMs} ms`);
    await sleep(50);
  }
}

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

  it('past the drain bound, force-closed jobs are picked up again after their lock expires', async () => {
    const fast = {
      WORKER_CONCURRENCY_AGENDA: '2',
      WORKER_SHUTDOWN_TIMEOUT_MS: '300',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };
    const first = await startWorker(fast);
    workers.push(first);
    const ids = await enqueue(2, 3_000);
    await waitActive(2);

    expect(await first.stop('SIGTERM', 10_000)).toBe(0);
    expect(first.output()).toContain('"outcome":"forced"');
    expect((await readCanaries(ids)).every((r) => r.status === 'queued')).toBe(true);

    workers.push(await startWorker(fast));
    const rows = await waitProcessed(ids, 30_000);
    expect(rows).toHaveLength(2);
  });

  it('runs from the single-file bundle the Dockerfile ships', async () => {
    execFileSync('npm', ['run', '--silent', 'build:worker'], { cwd: path.join(__dirname, '..', '..'), stdio: 'pipe' });
    const worker = await startWorker({}, 'bundle');
    workers.push(worker);
    const [id] = await enqueue(1, 0);
    expect((await waitProcessed([id!]))[0]).toMatchObject({ mode: 'inline' });
    expect(await worker.stop('SIGTERM')).toBe(0);
  });
});
