/**
 * A control is renewed once, even when the scan runs twice or two workers race. Two
 * real worker processes consume the same `renovacao` queue (this file's queue prefix) and each takes
 * one of two `renewals.scan` jobs enqueued at once. Every package of the test clinic is row-locked
 * by the test while the jobs start, so neither scan can get ahead: both reach the same first package
 * and wait on it (seen in pg_stat_activity), which proves that both workers are running a pass at
 * the same time; the test then lets go and both passes race over the same packages.
 */
import { DateTime } from 'luxon';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { newPatient } from '../support/scheduling-fixtures';
import { startWorker, type Worker } from '../support/processes';
import { until } from '../support/until';

type ScanResult = import('../../lib/domain/session-packages/renewal-scan').ScanResult;
let lib: {
  getRenovacaoQueue: typeof import('../../lib/platform/queues/queues').getRenovacaoQueue;
  getDb: typeof import('../../lib/platform/db/client').getDb;
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
};
let pg: Client;
const workers: Worker[] = [];

beforeAll(async () => {
  lib = {
    getRenovacaoQueue: require('../../lib/platform/queues/queues').getRenovacaoQueue,
    getDb: require('../../lib/platform/db/client').getDb,
    closeAll: require('../../lib/platform/lifecycle/close-all').closeAll,
  };
  pg = new Client({ connectionString: TEST_DATABASE_URL });
  await pg.connect();
});

afterAll(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGTERM').catch(() => w.stop('SIGKILL').catch(() => undefined))));
  await pg.end();
  await lib.closeAll();
});

/**
 * A zone no other test uses, and a pass for its current local hour that ends well before that
 * hour does (the jobs scan by the time they run): Gambier is UTC-9, Marquesas UTC-9:30, so one of
 * the two always has at least 15 minutes of its hour left. No other test's clinic shares the hour.
 */
function zoneWithTimeLeft(): { zone: string; localHour: number } {
  for (const zone of ['Pacific/Gambier', 'Pacific/Marquesas']) {
    const local = DateTime.now().setZone(zone);
    if (local.minute <= 45) return { zone, localHour: local.hour };
  }
  throw new Error('unreachable: the two zones are 30 minutes apart');
}

/** How long and how often this file polls. */
const POLL = { timeoutMs: 90_000, everyMs: 100 };

/** Ids of the jobs a worker reports it completed (its `job.completed` log lines). */
function completedBy(worker: Worker): string[] {
  return worker
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { message?: string; jobId?: string };
        return entry.message === 'job.completed' && entry.jobId ? [entry.jobId] : [];
      } catch {
        return [];
      }
    });
}

it('two worker processes running the pass at once renew (or request) each package exactly once', async () => {
  const { zone, localHour } = zoneWithTimeLeft();
  // One pass at a time per worker, and no scheduled pass of their own during the test: their
  // hourly pattern fires half an hour from now, for a local hour twelve hours away.
  const env = {
    WORKER_CONCURRENCY_RENOVACAO: '1',
    RENEWAL_SCAN_PATTERN: `${(new Date().getUTCMinutes() + 30) % 60} * * * *`,
    RENEWAL_SCAN_LOCAL_HOUR: String((localHour + 12) % 24),
  };
  workers.push(await startWorker(env));
  workers.push(await startWorker(env));

  const { clinicId } = await newClinic(zone);
  const db = await lib.getDb();
  const validUntil = new Date(Date.now() + 20 * 86_400_000);
  const exhausted = async (renewalPolicy: 'automatic' | 'manual') => {
    const patient = await newPatient(clinicId);
    const row = await db.appointmentControl.create({
      data: { clinicId, patientId: patient.id, sessionsTotal: 4, sessionsUsed: 4, status: 'exhausted', renewalPolicy, validFrom: new Date(Date.now() - 10 * 86_400_000), validUntil },
    });
    return row.id;
  };
  const automatic = [await exhausted('automatic'), await exhausted('automatic'), await exhausted('automatic')];
  const manual = [await exhausted('manual'), await exhausted('manual'), await exhausted('manual')];

  const queue = await lib.getRenovacaoQueue();
  const ids = [`race-a-${clinicId}`, `race-b-${clinicId}`];
  const holder = new Client({ connectionString: TEST_DATABASE_URL });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM appointment_controls WHERE clinic_id = $1 FOR UPDATE', [clinicId]);
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await queue.addBulk(ids.map((jobId) => ({ name: 'renewals.scan' as const, data: { localHour }, opts: { jobId } })));

    // Each worker runs one job at a time, so two passes waiting on the lock are the two workers.
    // (The second waiter queues behind the first, so it is blocked by the first, not the holder.)
    await until('both passes to wait on the locked packages', async () => {
      const { rows } = await pg.query<{ n: number }>(
        `WITH RECURSIVE waiting(pid) AS (
           SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
           UNION SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY(pg_blocking_pids(a.pid)))
         SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid IN (SELECT pid FROM waiting) AND query ILIKE '%FOR UPDATE%'`,
        [holderPid],
      );
      return rows[0]!.n;
    }, (n) => n === 2, POLL);
    await holder.query('COMMIT');
  } finally {
    await holder.end();
  }

  const results = (await Promise.all(
    ids.map((id) =>
      until(`job ${id} to finish`, async () => {
        const job = await queue.getJob(id);
        if (job?.failedReason) throw new Error(`job ${id} failed: ${job.failedReason}`);
        return job?.finishedOn ? (job.returnvalue as ScanResult) : undefined;
      }, (result) => result !== undefined, POLL),
    ),
  )) as ScanResult[];
  // One job each, on two different processes.
  expect([completedBy(workers[0]!), completedBy(workers[1]!)].map((done) => done.filter((id) => ids.includes(id)))).toEqual(
    expect.arrayContaining([[ids[0]], [ids[1]]]),
  );
  // Both passes saw all six packages as due, and between them acted on each once.
  for (const r of results) expect(r.candidates).toBeGreaterThanOrEqual(6);
  expect(results.reduce((n, r) => n + r.renewed, 0)).toBe(3);
  expect(results.reduce((n, r) => n + r.requested, 0)).toBe(3);

  for (const id of automatic) {
    const next = await pg.query('SELECT id FROM appointment_controls WHERE previous_control_id = $1', [id]);
    expect(next.rows).toHaveLength(1);
    expect((await pg.query('SELECT status FROM appointment_controls WHERE id = $1', [id])).rows[0].status).toBe('renewed');
  }
  const requests = await pg.query<{ control_id: string }>('SELECT control_id FROM renewal_requests WHERE clinic_id = $1', [clinicId]);
  expect(requests.rows.map((r) => r.control_id).sort()).toEqual([...manual].sort());
  const events = await pg.query<{ type: string; aggregate_id: string; previous: string | null }>(
    `SELECT type, aggregate_id::text, payload->>'previousControlId' AS previous FROM outbox_events
      WHERE clinic_id = $1 AND type IN ('control.renewed', 'control.renewal_requested')`,
    [clinicId],
  );
  const renewedFrom = events.rows.filter((e) => e.type === 'control.renewed').map((e) => e.previous);
  const requestedFor = events.rows.filter((e) => e.type === 'control.renewal_requested').map((e) => e.aggregate_id);
  expect(renewedFrom.sort()).toEqual([...automatic].sort());
  expect(requestedFor.sort()).toEqual([...manual].sort());
}, 240_000);
