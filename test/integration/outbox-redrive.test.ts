/**
 * Outbox re-drive: "no job lost between the database and the queue" also holds after the queue.
 * An event whose `domain.event` job failed all its attempts (PostgreSQL unreachable through a real
 * TCP proxy, run by a real BullMQ Worker on the product's processor and job options) is re-driven
 * by the relay once the grace period has passed, and then processed exactly once; a job still
 * waiting or delayed is left alone; a processed event is never re-driven; a notice left `pending`
 * by a send job that failed for good is sent again when its event runs again.
 *
 * The relay reads every outbox row of its database, so this file runs on a database of its own
 * (migrated here, dropped at the end): its counts are exact whatever other files left behind.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { Client } from 'pg';
import { migrate } from '../../lib/db/migrator';
import type { QueueName } from '../../lib/queues/names';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const DB_NAME = `agenda_scratch_redrive_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const dbUrl = (name: string) => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

type Container = {
  appointments: typeof import('../../lib/appointments/service');
  webhooks: typeof import('../../lib/webhooks/endpoints');
  deliver: typeof import('../../lib/webhooks/deliver');
  relay: typeof import('../../lib/outbox/relay');
  processors: typeof import('../../lib/outbox/processors');
  jobs: typeof import('../../lib/queues/jobs');
  queues: typeof import('../../lib/queues/queues');
  dispatch: typeof import('../../worker/dispatch');
  config: typeof import('../../lib/config');
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
};
let c: Container;
let proxy: TcpProxy;
let pg: Client;

beforeAll(async () => {
  await migrate({ databaseUrl: dbUrl(DB_NAME), migrationsDir: `${__dirname}/../../prisma/migrations`, createDatabase: true, log: () => undefined });
  const target = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  process.env.AGENDA_PROFILE = 'worker';
  process.env.DATABASE_URL = proxy.urlFor(dbUrl(DB_NAME));
  process.env.WEBHOOKS_ALLOW_LOOPBACK = 'true';
  jest.resetModules();
  c = {
    appointments: await import('../../lib/appointments/service'),
    webhooks: await import('../../lib/webhooks/endpoints'),
    deliver: await import('../../lib/webhooks/deliver'),
    relay: await import('../../lib/outbox/relay'),
    processors: await import('../../lib/outbox/processors'),
    jobs: await import('../../lib/queues/jobs'),
    queues: await import('../../lib/queues/queues'),
    dispatch: await import('../../worker/dispatch'),
    config: await import('../../lib/config'),
    closeAll: (await import('../../lib/lifecycle/close-all')).closeAll,
  };
  pg = new Client({ connectionString: dbUrl(DB_NAME) }); // straight to PostgreSQL: the test's own eyes
  await pg.connect();
});

afterAll(async () => {
  await proxy.up();
  for (const name of ['agenda', 'webhook', 'notification'] as const) {
    await (await queueOf(name)).obliterate({ force: true }).catch(() => undefined);
  }
  await c.closeAll();
  await pg.end();
  await proxy.close();
  const admin = new Client({ connectionString: dbUrl('postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin.end();
});

const queueOf = (name: 'agenda' | 'webhook' | 'notification') =>
  name === 'agenda' ? c.queues.getAgendaQueue() : name === 'webhook' ? c.queues.getWebhookQueue() : c.queues.getNotificationQueue();

/** A BullMQ Worker on the product's own dispatch (as worker/consumers.ts starts it), on this file's prefix. */
function startWorker(queue: QueueName) {
  const redis = new URL(TEST_REDIS_URL);
  return new Worker(queue, c.dispatch.processorFor(queue, 'inline'), {
    connection: { host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null },
    prefix: process.env.QUEUE_PREFIX,
    concurrency: 1,
    settings: { backoffStrategy: c.deliver.webhookBackoffStrategy },
  });
}

/**
 * Runs job `jobId` with PostgreSQL unreachable until BullMQ fails it for good. Every attempt fails
 * for real; only the backoff wait between attempts is skipped, by BullMQ's own `promote`.
 */
async function failForGood(queue: 'agenda' | 'webhook' | 'notification', jobId: string) {
  const q = await queueOf(queue);
  await proxy.down();
  const worker = startWorker(queue);
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('failed', (job) => {
        if (job?.id !== jobId) return;
        void (async () => {
          const current = await q.getJob(jobId);
          const state = await current?.getState();
          if (state === 'failed') resolve();
          else if (state === 'delayed') await current!.promote();
        })().catch(reject);
      });
    });
  } finally {
    await worker.close();
    await proxy.up();
  }
}

/** Runs the agenda queue with the database up until job `jobId` completes. */
async function runUntilCompleted(jobId: string) {
  const worker = startWorker('agenda');
  try {
    await new Promise<void>((resolve) => worker.on('completed', (job) => job.id === jobId && resolve()));
  } finally {
    await worker.close();
  }
}

/** A clinic with a webhook endpoint on `appointment.created` and a patient with an e-mail address; one booking. */
async function book() {
  const clinic = await newClinic();
  await c.webhooks.createWebhookEndpoint(clinic.clinicId, { url: 'http://127.0.0.1:9/hook', eventTypes: ['appointment.created'] });
  const pro = await newProfessional(clinic.clinicId);
  const patient = await newPatient(clinic.clinicId);
  const appt = await c.appointments.createAppointment(
    { clinicId: clinic.clinicId, timeZone: 'America/Sao_Paulo' },
    { professionalId: pro.id, patientId: patient.id, startsAt: localAt(3, 10) },
  );
  const { rows } = await pg.query<{ id: string }>("SELECT id FROM outbox_events WHERE aggregate_id = $1 AND type = 'appointment.created'", [appt.id]);
  expect(rows).toHaveLength(1);
  return { appointmentId: appt.id, eventId: rows[0]!.id };
}

const eventRow = async (id: string) =>
  (
    await pg.query<{ published_at: Date | null; processed_at: Date | null; attempts: number; last_error: string | null }>(
      'SELECT published_at, processed_at, attempts, last_error FROM outbox_events WHERE id = $1',
      [id],
    )
  ).rows[0]!;

/** What processing the event produced: webhook deliveries and e-mail notices. */
async function outputs(eventId: string, appointmentId: string) {
  const deliveries = await pg.query('SELECT id FROM webhook_deliveries WHERE event_id = $1', [eventId]);
  const notices = await pg.query<{ id: string; status: string }>(
    "SELECT id, status FROM notifications WHERE appointment_id = $1 AND channel = 'email'",
    [appointmentId],
  );
  return { deliveries: deliveries.rowCount, notices: notices.rows };
}

async function jobState(queue: 'agenda' | 'webhook' | 'notification', jobId: string) {
  const job = await (await queueOf(queue)).getJob(jobId);
  return job ? { state: await job.getState(), attemptsMade: job.attemptsMade, timestamp: job.timestamp } : undefined;
}

it("the re-drive grace outlasts a live domain.event job's whole retry schedule", () => {
  const schedule = c.jobs.retryScheduleMs(c.jobs.DEFAULT_JOB_OPTIONS.agenda);
  expect(schedule).toBe(510_000); // 2 s + 4 s + ... + 256 s: a failover of several minutes is outlived
  expect(c.config.getConfig().outboxRedriveAfterMs).toBeGreaterThan(schedule);
});

it('an event whose job failed all its attempts (database down) is re-driven after the grace period and processed exactly once', async () => {
  const { eventId, appointmentId } = await book();
  expect(await eventRow(eventId)).toMatchObject({ published_at: expect.any(Date), processed_at: null, attempts: 1 });

  await failForGood('agenda', eventId);
  expect(await jobState('agenda', eventId)).toMatchObject({ state: 'failed', attemptsMade: c.jobs.DEFAULT_JOB_OPTIONS.agenda.attempts });
  expect(await eventRow(eventId)).toMatchObject({ processed_at: null });
  expect(await outputs(eventId, appointmentId)).toEqual({ deliveries: 0, notices: [] });

  // Within the grace period (the default, 15 min): left alone.
  expect(await c.relay.redriveOutbox()).toEqual({ checked: 0, redriven: 0 });
  // Past it (a grace of 0 here): the failed job is removed and the event queued again, same id.
  expect(await c.relay.redriveOutbox({ afterMs: 0 })).toEqual({ checked: 1, redriven: 1 });
  expect(await jobState('agenda', eventId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  const redriven = await eventRow(eventId);
  expect(redriven).toMatchObject({ processed_at: null, attempts: 2 });
  expect(redriven.last_error).toMatch(/^redriven, job failed: Database unreachable/);
  // The new job waits: another pass does not duplicate it.
  expect(await c.relay.redriveOutbox({ afterMs: 0 })).toEqual({ checked: 1, redriven: 0 });

  await runUntilCompleted(eventId);
  expect((await eventRow(eventId)).processed_at).toBeInstanceOf(Date);
  const out = await outputs(eventId, appointmentId);
  expect(out.deliveries).toBe(1);
  expect(out.notices).toEqual([{ id: expect.any(String), status: 'pending' }]);

  // Processed: never re-driven, by either half of the relay.
  expect(await c.relay.relayOutbox({ olderThanMs: 0, redriveAfterMs: 0 })).toEqual({ found: 0, published: 0, redriven: 0 });
  expect(await jobState('agenda', eventId)).toMatchObject({ state: 'completed' });
  expect(await outputs(eventId, appointmentId)).toEqual(out);
});

it('a job still waiting or delayed (retrying) is left alone', async () => {
  const { eventId } = await book();
  const waiting = await jobState('agenda', eventId);
  expect(waiting).toMatchObject({ state: 'waiting' });
  expect(await c.relay.redriveOutbox({ afterMs: 0 })).toEqual({ checked: 1, redriven: 0 });
  expect(await jobState('agenda', eventId)).toEqual(waiting);

  // One real failure (database down), then the worker stops: the job waits for its retry.
  await proxy.down();
  const worker = startWorker('agenda');
  await new Promise<void>((resolve) => worker.on('failed', (job) => job?.id === eventId && resolve()));
  await worker.close();
  await proxy.up();
  const delayed = await jobState('agenda', eventId);
  expect(delayed).toMatchObject({ state: 'delayed' });
  expect(await c.relay.redriveOutbox({ afterMs: 0 })).toEqual({ checked: 1, redriven: 0 });
  expect(await jobState('agenda', eventId)).toEqual(delayed);
  expect(await eventRow(eventId)).toMatchObject({ attempts: 1, last_error: null });

  await (await (await queueOf('agenda')).getJob(eventId))!.promote();
  await runUntilCompleted(eventId);
});

it('a completed job whose event is unprocessed (run by an older worker), or a job gone from Redis, is re-driven', async () => {
  const { eventId } = await book();
  await runUntilCompleted(eventId);
  expect(await c.relay.redriveOutbox({ afterMs: 0 })).toEqual({ checked: 0, redriven: 0 });

  await pg.query('UPDATE outbox_events SET processed_at = NULL WHERE id = $1', [eventId]);
  expect(await c.relay.redriveOutbox({ afterMs: 0 })).toEqual({ checked: 1, redriven: 1 });
  expect(await jobState('agenda', eventId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  expect((await eventRow(eventId)).last_error).toBe('redriven, job completed');

  await (await (await queueOf('agenda')).getJob(eventId))!.remove(); // e.g. lost in a Redis failover
  expect(await c.relay.redriveOutbox({ afterMs: 0 })).toEqual({ checked: 1, redriven: 1 });
  expect(await jobState('agenda', eventId)).toMatchObject({ state: 'waiting' });
  expect(await eventRow(eventId)).toMatchObject({ attempts: 3, last_error: 'redriven, job missing' });
  await runUntilCompleted(eventId);
  expect((await eventRow(eventId)).processed_at).toBeInstanceOf(Date);
});

it('a notice left pending by a send job that failed for good (database down) is sent again when its event runs again', async () => {
  const { eventId, appointmentId } = await book();
  await runUntilCompleted(eventId);
  const [notice] = (await outputs(eventId, appointmentId)).notices;
  expect(notice).toMatchObject({ status: 'pending' });

  await failForGood('notification', notice!.id);
  expect(await jobState('notification', notice!.id)).toMatchObject({ state: 'failed', attemptsMade: c.jobs.DEFAULT_JOB_OPTIONS.notification.attempts });
  // The send never reached the database: no outcome was recorded.
  expect((await outputs(eventId, appointmentId)).notices).toEqual([{ id: notice!.id, status: 'pending' }]);

  // The event runs again (at-least-once, or a re-drive): the notice gets a fresh send job.
  const job = { queue: 'agenda' as const, name: 'domain.event' as const, id: eventId, data: { eventId }, attemptsMade: 0, mode: 'inline' as const };
  await c.processors.processDomainEvent(job);
  expect(await jobState('notification', notice!.id)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  expect((await outputs(eventId, appointmentId)).notices).toEqual([{ id: notice!.id, status: 'pending' }]);
});

it('a webhook delivery left pending by a job that failed for good (database down) is queued again when its event runs again', async () => {
  const { eventId } = await book();
  await runUntilCompleted(eventId);
  const { rows } = await pg.query<{ id: string; status: string }>('SELECT id, status FROM webhook_deliveries WHERE event_id = $1', [eventId]);
  expect(rows).toEqual([{ id: expect.any(String), status: 'pending' }]);
  const deliveryId = rows[0]!.id;

  await failForGood('webhook', deliveryId);
  expect(await jobState('webhook', deliveryId)).toMatchObject({ state: 'failed', attemptsMade: c.deliver.WEBHOOK_ATTEMPTS });
  const still = await pg.query('SELECT status FROM webhook_deliveries WHERE id = $1', [deliveryId]);
  expect(still.rows[0].status).toBe('pending'); // no attempt reached the database

  const job = { queue: 'agenda' as const, name: 'domain.event' as const, id: eventId, data: { eventId }, attemptsMade: 0, mode: 'inline' as const };
  await c.processors.processDomainEvent(job);
  expect(await jobState('webhook', deliveryId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  const after = await pg.query('SELECT id FROM webhook_deliveries WHERE event_id = $1', [eventId]);
  expect(after.rowCount).toBe(1);
});
