/**
 * A worker stopped past its drain bound loses no job: the jobs it was still running keep their lock
 * until it expires (WORKER_LOCK_DURATION_MS), then another worker's stalled-job check
 * (WORKER_STALLED_INTERVAL_MS) puts them back in the queue and that worker runs them.
 *
 * In a file of its own on purpose: each test file has its own queue prefix, and BullMQ runs one
 * stalled check per queue per interval, guarded by a key that lives as long as the interval of the
 * worker that set it. A worker with the default 30 s interval earlier in the same file would hold
 * the next check back by up to 30 s, whatever the knobs below say.
 */
import { enqueueCanaries, readCanaries, waitActive, waitProcessed } from '../support/canary';
import { startWorker, type Worker } from '../support/processes';

const ADMIN_SECRET = 'worker-stalled-test-admin-secret';
process.env.ADMIN_SECRET = ADMIN_SECRET;

/** Worst case from a forced exit to the job back in the queue: lock expiry, then two checks. */
const LOCK_MS = 2_000;
const STALLED_INTERVAL_MS = 1_000;
/**
 * Long enough that a job cannot finish before the first worker is stopped: that happens only once
 * the second worker is up, and a worker process can take several seconds to start on a busy machine.
 */
const WORK_MS = 8_000;
const FAST = {
  WORKER_CONCURRENCY_AGENDA: '2',
  WORKER_SHUTDOWN_TIMEOUT_MS: '300',
  WORKER_LOCK_DURATION_MS: String(LOCK_MS),
  WORKER_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
};

type Lib = {
  create: typeof import('../../functions/http/admin').createCanary;
  getAgendaQueue: typeof import('../../lib/platform/queues/queues').getAgendaQueue;
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
};
let lib: Lib;
const workers: Worker[] = [];

beforeAll(() => {
  lib = {
    create: require('../../functions/http/admin').createCanary,
    getAgendaQueue: require('../../lib/platform/queues/queues').getAgendaQueue,
    closeAll: require('../../lib/platform/lifecycle/close-all').closeAll,
  };
});

afterAll(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL').catch(() => undefined)));
  await lib.closeAll();
});

it('past the drain bound, force-closed jobs are picked up again by another worker after their lock expires', async () => {
  // Two workers, as in production; the second is up before the first stops, so what the test
  // waits for is the lock expiry and the stalled check, not a process start.
  const first = await startWorker(FAST);
  workers.push(first);
  const ids = await enqueueCanaries(lib.create, ADMIN_SECRET, 2, WORK_MS);
  await waitActive(await lib.getAgendaQueue(), 2);
  const second = await startWorker(FAST);
  workers.push(second);

  const stopped = Date.now();
  expect(await first.stop('SIGTERM', 10_000)).toBe(0);
  expect(first.output()).toContain('"outcome":"forced"');
  // Not finished, and not handed over yet: their locks are still held.
  expect((await readCanaries(ids)).map((r) => r.status)).toEqual(['queued', 'queued']);

  const rows = await waitProcessed(ids, 30_000);
  expect(rows).toHaveLength(2);
  expect(rows.every((r) => r.mode === 'inline')).toBe(true);
  // They came back through the stalled-job check (not a retry after a failure)...
  expect(second.output()).toContain('worker.job_stalled');
  // ... within the bound the knobs give (plus the work itself and some slack for a busy machine).
  const recoveredMs = Date.now() - stopped;
  expect(recoveredMs).toBeLessThan(LOCK_MS + 2 * STALLED_INTERVAL_MS + WORK_MS + 5_000);
  console.info(`worker-stalled: both jobs processed ${recoveredMs} ms after the forced stop`);
});
