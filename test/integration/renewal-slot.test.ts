/**
 * A renewal pass made by a BullMQ job scheduler scans the clinics of its slot whenever and however
 * often it runs: the worker's dispatch hands the slot to the processor (`scheduledAt`), inline and
 * through the job Lambda's event. The scheduler here is real and its slot lies 75 to 135 minutes
 * ahead, so the job (promoted by BullMQ's own `promote` rather than waited for) always runs in
 * another local hour than its slot's; its first attempt fails, so the attempt that scans is a retry.
 */
import { Worker, type Job } from 'bullmq';
import { DateTime } from 'luxon';
import { TEST_REDIS_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { buildContext } from '../support/invoke';
import { newPatient } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

/** A zone no other test file uses, so the passes here leave other files' clinics alone. */
const ZONE = 'Australia/Eucla'; // +08:45
const SCHEDULERS = ['renewal-slot-inline', 'renewal-slot-lambda'] as const;

// Emptying the queues at the end removes the job schedulers too.
const suite = useSuite({
  pg: true,
  obliterateQueues: true,
  modules: {
    dispatch: () => import('../../worker/dispatch'),
    queues: () => import('../../lib/platform/queues/queues'),
    db: () => import('../../lib/platform/db/client'),
    runJob: () => import('../../functions/jobs/run-job'),
  },
});
const { dispatch, queues, db, runJob } = suite.m;

/** An exhausted automatic package of a new clinic in ZONE: the next pass of its clinic renews it. */
async function duePackage() {
  const { clinicId } = await newClinic(ZONE);
  const prisma = await db.getDb();
  const patient = await newPatient(clinicId);
  const day = 86_400_000;
  return prisma.appointmentControl.create({
    data: {
      clinicId, patientId: patient.id, sessionsTotal: 4, sessionsUsed: 4, status: 'exhausted', renewalPolicy: 'automatic',
      validFrom: new Date(Date.now() - 10 * day), validUntil: new Date(Date.now() + 20 * day),
    },
  });
}
const successors = async (id: string) =>
  (await suite.pg.query('SELECT id FROM appointment_controls WHERE previous_control_id = $1', [id])).rowCount;

/**
 * A scheduler on the renovacao queue whose one slot is hh:15 UTC two hours on, for the clinics
 * whose local hour is then the slot's; resolves to its job, promoted (due now, as BullMQ does at the
 * slot), with the slot.
 */
async function scheduledPass(id: (typeof SCHEDULERS)[number]): Promise<{ job: Job; slot: DateTime }> {
  const slot = DateTime.utc().startOf('hour').plus({ hours: 2, minutes: 15 });
  const q = await queues.getRenovacaoQueue();
  await q.drain(true); // the earlier test's next iteration
  const data = { localHour: slot.setZone(ZONE).hour };
  await q.upsertJobScheduler(id, { pattern: `15 ${slot.hour} * * *`, tz: 'UTC' }, { name: 'renewals.scan', data });
  const [job] = await q.getDelayed();
  expect(job!.timestamp + job!.delay).toBe(slot.toMillis());
  await job!.promote();
  return { job: (await q.getJob(job!.id!))!, slot };
}

it('inline: a retry of a promoted scheduler job scans the clinics of its slot', async () => {
  const pkg = await duePackage();
  const { job, slot } = await scheduledPass('renewal-slot-inline');
  const processor = dispatch.processorFor('renovacao', 'inline');
  const seen: { attempt: number; scheduledAt?: number; delay: number }[] = [];
  const redis = new URL(TEST_REDIS_URL);
  const worker = new Worker(
    'renovacao',
    async (j: Job) => {
      seen.push({ attempt: j.attemptsMade, scheduledAt: dispatch.scheduledAtOf(j), delay: j.delay });
      if (j.attemptsMade === 0) throw new Error('first attempt fails');
      return processor(j);
    },
    { connection: { host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null }, prefix: process.env.QUEUE_PREFIX, concurrency: 1 },
  );
  try {
    const result = await new Promise<unknown>((resolve, reject) => {
      worker.on('completed', (j, value) => j.id === job.id && resolve(value));
      worker.on('failed', (j) => {
        if (j?.id !== job.id) return;
        // The retry's backoff (1 min) is skipped, not waited for.
        void (async () => (await (await queues.getRenovacaoQueue()).getJob(job.id!))?.promote())().catch(reject);
      });
    });
    expect(result).toMatchObject({ localHour: slot.setZone(ZONE).hour, renewed: expect.any(Number) });
  } finally {
    await worker.close();
  }
  expect(seen).toEqual([
    { attempt: 0, scheduledAt: slot.toMillis(), delay: 0 },
    { attempt: 1, scheduledAt: slot.toMillis(), delay: expect.any(Number) },
  ]);
  expect(await successors(pkg.id)).toBe(1);
});

it("through the job Lambda: the slot crosses the wire in the function's event", async () => {
  const pkg = await duePackage();
  const { job, slot } = await scheduledPass('renewal-slot-lambda');
  const event = JSON.parse(JSON.stringify(dispatch.invocationOf('renovacao', job)));
  expect(event).toMatchObject({ queue: 'renovacao', name: 'renewals.scan', scheduledAt: slot.toMillis() });
  const outcome = await runJob.handler(event, buildContext('agenda-test-jobRunner', 120_000));
  expect(outcome).toMatchObject({ ok: true, result: { localHour: slot.setZone(ZONE).hour } });
  expect(await successors(pkg.id)).toBe(1);
  // A job added on demand carries no slot: it runs as of its run time.
  const onDemand = await (await queues.getRenovacaoQueue()).add('renewals.scan', { localHour: 3 }, { delay: 60_000 });
  expect(dispatch.invocationOf('renovacao', onDemand)).not.toHaveProperty('scheduledAt');
});
