/**
 * Outbox re-drive: "no job lost between the database and the queue" also holds after the queue.
 * An event whose `domain.event` job failed all its attempts (PostgreSQL unreachable through a real
 * TCP proxy, run by a real BullMQ Worker on the product's processor and job options) is re-driven
 * by the relay once the grace period has passed, and then processed exactly once; a job still
 * waiting or delayed is left alone; a processed event is never re-driven. The relay's sweep does
 * the same for sends: an e-mail notice or webhook delivery left `pending` by a send job that failed
 * for good, or whose job vanished, is queued again and sent (to a real SMTP sink and HTTP receiver)
 * though its event never runs again; a delivery waiting for its retry is left alone. Rows whose
 * jobs are merely slow never hide a dead one, in either half: each row looked at leaves the window.
 *
 * Rows are "old" here by being backdated 2 h against a grace of 1 h: rows the other tests made
 * minutes ago stay out of the window, so every count is exact.
 *
 * The relay reads every outbox row of its database, so this file runs on a database of its own
 * (migrated here, dropped at the end): its counts are exact whatever other files left behind.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { Client } from 'pg';
import { migrate } from '../../lib/platform/db/migrator';
import type { QueueName } from '../../lib/platform/config/queue-names';
import { TEST_DATABASE_URL, TEST_DIRECT_DATABASE_URL, TEST_REDIS_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { useSuite } from '../support/suite';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const DB_NAME = `agenda_scratch_redrive_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
/** `name` on PostgreSQL itself (migrations, the test's own queries); the product reaches it as TEST_DATABASE_URL does. */
const dbUrl = (name: string) => {
  const u = new URL(TEST_DIRECT_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

let proxy: TcpProxy;
let pg: Client;
let smtp: SmtpSink;
/** A webhook receiver answering `status`; `received` lists the `webhook-id` of every request. */
const hooks = { status: 204, received: [] as string[], url: '' };
const receiver = http.createServer((req, res) => {
  hooks.received.push(String(req.headers['webhook-id']));
  req.resume();
  res.statusCode = hooks.status;
  res.end();
});

// Declared before the suite so it runs before the suite's cleanup: a case that failed with the
// database unreachable must not leave the queue obliteration and closeAll facing the outage.
afterAll(() => proxy?.up());

const suite = useSuite({
  // DATABASE_URL and SMTP_URL point at this file's database (through the proxy) and SMTP sink once
  // they exist: set below, then the container reloaded.
  env: { AGENDA_PROFILE: 'worker', WEBHOOKS_ALLOW_LOOPBACK: 'true', DATABASE_URL: process.env.DATABASE_URL, SMTP_URL: undefined },
  modules: {
    appointments: () => import('../../lib/domain/appointments/service'),
    webhooks: () => import('../../lib/domain/webhooks/endpoints'),
    deliver: () => import('../../lib/domain/webhooks/retry-policy'),
    relay: () => import('../../lib/jobs/outbox/relay'),
    processors: () => import('../../lib/jobs/processors/domain-event'),
    jobs: () => import('../../lib/platform/queues/jobs'),
    queues: () => import('../../lib/platform/queues/queues'),
    dispatch: () => import('../../worker/dispatch'),
    config: () => import('../../lib/platform/config'),
  },
  obliterateQueues: true,
});
const c = suite.m;

beforeAll(async () => {
  smtp = await startSmtpSink();
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hooks.url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await migrate({ databaseUrl: dbUrl(DB_NAME), migrationsDir: `${__dirname}/../../prisma/migrations`, createDatabase: true, log: () => undefined });
  // In front of what the product uses: PostgreSQL, or PgBouncer in the pass through it.
  const target = new URL(TEST_DATABASE_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  process.env.DATABASE_URL = proxy.urlFor(dbUrl(DB_NAME));
  process.env.SMTP_URL = `smtp://127.0.0.1:${smtp.port}`;
  await suite.reload();
  pg = new Client({ connectionString: dbUrl(DB_NAME) }); // straight to this file's database: the test's own eyes
  await pg.connect();
});

afterAll(async () => {
  await pg.end();
  await proxy.close();
  const admin = new Client({ connectionString: dbUrl('postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin.end();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await smtp.close();
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

/** Runs `queue` with the database up until job `jobId` completes (or fails once). */
async function runUntil(queue: 'agenda' | 'webhook' | 'notification', jobId: string, outcome: 'completed' | 'failed' = 'completed') {
  const worker = startWorker(queue);
  try {
    await new Promise<void>((resolve) => {
      const done = (job?: { id?: string }) => job?.id === jobId && resolve();
      if (outcome === 'completed') worker.on('completed', done);
      else worker.on('failed', done);
    });
  } finally {
    await worker.close();
  }
}
const runUntilCompleted = (jobId: string) => runUntil('agenda', jobId);

/** A clinic with a webhook endpoint on `appointment.created` and a patient with an e-mail address; one booking. */
async function book() {
  const clinic = await newClinic();
  await c.webhooks.createWebhookEndpoint(clinic.clinicId, { url: hooks.url, eventTypes: ['appointment.created'] });
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

/** A booking whose event was processed: its e-mail notice and webhook delivery are pending, their jobs waiting. */
async function bookAndProcess() {
  const booking = await book();
  await runUntilCompleted(booking.eventId);
  const [notice] = (await outputs(booking.eventId, booking.appointmentId)).notices;
  const { rows } = await pg.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE event_id = $1', [booking.eventId]);
  expect(notice).toMatchObject({ status: 'pending' });
  expect(rows).toHaveLength(1);
  return { ...booking, noticeId: notice!.id, deliveryId: rows[0]!.id };
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

const deliveryRow = async (id: string) =>
  (
    await pg.query<{ status: string; attempts: number; next_attempt_at: Date | null; swept_at: Date | null }>(
      'SELECT status, attempts, next_attempt_at, swept_at FROM webhook_deliveries WHERE id = $1',
      [id],
    )
  ).rows[0]!;

const HOUR = 3_600_000;
const NO_SENDS = { notices: { checked: 0, requeued: 0 }, deliveries: { checked: 0, requeued: 0 } };

/** Makes a row 2 h older: past the 1 h grace of `sweepPass`, which rows made by the other tests are not. */
const backdate = (table: 'notifications' | 'webhook_deliveries', id: string) =>
  pg.query(`UPDATE ${table} SET created_at = created_at - interval '2 hours' WHERE id = $1`, [id]);

/** One relay pass (the worker's `outbox.relay` job) with a sweep grace of 1 h; what its sweep did. */
const sweepPass = async (sweepLimit?: number) =>
  (await c.relay.relayOutbox({ sweepAfterMs: HOUR, sweepLimit })).sends;

async function jobState(queue: 'agenda' | 'webhook' | 'notification', jobId: string) {
  const job = await (await queueOf(queue)).getJob(jobId);
  return job ? { state: await job.getState(), attemptsMade: job.attemptsMade, timestamp: job.timestamp } : undefined;
}

it("the re-drive grace outlasts a live domain.event job's whole retry schedule", () => {
  const schedule = c.jobs.retryScheduleMs(c.jobs.DEFAULT_JOB_OPTIONS.agenda);
  expect(schedule).toBe(510_000); // 2 s + 4 s + ... + 256 s: a failover of several minutes is outlived
  expect(c.config.getConfig().outboxRedriveAfterMs).toBeGreaterThan(schedule);
  // Nor can it be set shorter than the schedule.
  const withGrace = (ms: number) => () => c.config.parseConfig({ ...process.env, OUTBOX_REDRIVE_AFTER_MS: String(ms) });
  expect(withGrace(schedule)).toThrow(/OUTBOX_REDRIVE_AFTER_MS/);
  expect(withGrace(600_000)).not.toThrow();
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
  expect(await c.relay.relayOutbox({ olderThanMs: 0, redriveAfterMs: 0 })).toEqual({ found: 0, published: 0, redriven: 0, sends: NO_SENDS });
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

it('a notice left pending by a send job that failed for good (database down) is sent by the relay sweep once the grace has passed', async () => {
  const { eventId, appointmentId, noticeId } = await bookAndProcess();
  await failForGood('notification', noticeId);
  expect(await jobState('notification', noticeId)).toMatchObject({ state: 'failed', attemptsMade: c.jobs.DEFAULT_JOB_OPTIONS.notification.attempts });
  // The send never reached the database: no outcome recorded. And its event, processed, never runs again.
  expect((await outputs(eventId, appointmentId)).notices).toEqual([{ id: noticeId, status: 'pending' }]);
  expect((await eventRow(eventId)).processed_at).toBeInstanceOf(Date);

  // Within the grace period (the default, 15 min): left alone.
  expect((await c.relay.relayOutbox()).sends).toEqual(NO_SENDS);
  // Past it: the failed job is removed and the notice queued again under its id, once.
  await backdate('notifications', noticeId);
  expect(await sweepPass()).toEqual({ ...NO_SENDS, notices: { checked: 1, requeued: 1 } });
  expect(await jobState('notification', noticeId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  expect(await sweepPass()).toEqual(NO_SENDS);

  await runUntil('notification', noticeId);
  expect((await outputs(eventId, appointmentId)).notices).toEqual([{ id: noticeId, status: 'sent' }]);
  expect(smtp.inbox.filter((m) => m.mail.messageId === `<${noticeId}@agenda.notifications>`)).toHaveLength(1);
});

it('a webhook delivery left pending by a job that failed for good (database down) is sent by the relay sweep once the grace has passed', async () => {
  const { deliveryId } = await bookAndProcess();
  await failForGood('webhook', deliveryId);
  expect(await jobState('webhook', deliveryId)).toMatchObject({ state: 'failed', attemptsMade: c.deliver.WEBHOOK_ATTEMPTS });
  expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: null }); // no attempt reached the database

  expect((await c.relay.relayOutbox()).sends).toEqual(NO_SENDS);
  await backdate('webhook_deliveries', deliveryId);
  expect(await sweepPass()).toEqual({ ...NO_SENDS, deliveries: { checked: 1, requeued: 1 } });
  expect(await jobState('webhook', deliveryId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  expect(await sweepPass()).toEqual(NO_SENDS);

  await runUntil('webhook', deliveryId);
  expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'delivered', attempts: 1 });
  expect(hooks.received.filter((id) => id === deliveryId)).toHaveLength(1);
});

it('a delivery waiting for its retry is not looked at before the retry is due, and its live job is left alone after', async () => {
  const { deliveryId } = await bookAndProcess();
  // One real attempt, answered 503: the delivery waits for its retry (a delayed job, next_attempt_at set).
  hooks.status = 503;
  try {
    await runUntil('webhook', deliveryId, 'failed');
  } finally {
    hooks.status = 204;
  }
  const delayed = await jobState('webhook', deliveryId);
  expect(delayed).toMatchObject({ state: 'delayed', attemptsMade: 1 });
  expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: expect.any(Date) });

  // Created long ago, but its retry is scheduled: not even looked at.
  await backdate('webhook_deliveries', deliveryId);
  expect(await sweepPass()).toEqual(NO_SENDS);
  // The retry long overdue (no worker ran it, say): looked at, and the live job left as it was.
  await pg.query("UPDATE webhook_deliveries SET next_attempt_at = next_attempt_at - interval '2 hours' WHERE id = $1", [deliveryId]);
  expect(await sweepPass()).toEqual({ ...NO_SENDS, deliveries: { checked: 1, requeued: 0 } });
  expect(await jobState('webhook', deliveryId)).toEqual(delayed);
  expect((await deliveryRow(deliveryId)).swept_at).toBeInstanceOf(Date);
  // Looked at: out of the window for the grace period.
  expect(await sweepPass()).toEqual(NO_SENDS);

  await (await (await c.queues.getWebhookQueue()).getJob(deliveryId))!.promote();
  await runUntil('webhook', deliveryId);
  expect(await deliveryRow(deliveryId)).toMatchObject({ status: 'delivered', attempts: 2 });
});

it('a pending notice or delivery whose job is gone from Redis is queued again by the sweep', async () => {
  const { noticeId, deliveryId } = await bookAndProcess();
  // Lost, e.g. in a Redis failover.
  await (await (await c.queues.getNotificationQueue()).getJob(noticeId))!.remove();
  await (await (await c.queues.getWebhookQueue()).getJob(deliveryId))!.remove();
  await backdate('notifications', noticeId);
  await backdate('webhook_deliveries', deliveryId);
  expect(await sweepPass()).toEqual({ notices: { checked: 1, requeued: 1 }, deliveries: { checked: 1, requeued: 1 } });
  expect(await jobState('notification', noticeId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
  expect(await jobState('webhook', deliveryId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
});

it('sends whose jobs are merely slow cannot hide a stranded one from the sweep: each row looked at leaves the window', async () => {
  const { eventId, appointmentId } = await book();
  await runUntilCompleted(eventId);
  const [appt] = (await pg.query<{ clinic_id: string; patient_id: string }>('SELECT clinic_id, patient_id FROM appointments WHERE id = $1', [appointmentId])).rows;
  const [endpoint] = (await pg.query<{ id: string }>('SELECT id FROM webhook_endpoints WHERE clinic_id = $1', [appt!.clinic_id])).rows;
  // Oldest first: three rows whose jobs wait in the queue, then one whose job is gone.
  const notices: string[] = [];
  const deliveries: string[] = [];
  for (let k = 0; k < 4; k++) {
    const age = `${180 - k} minutes`;
    const n = await pg.query<{ id: string }>(
      `INSERT INTO notifications (clinic_id, patient_id, appointment_id, kind, channel, dedupe_key, created_at)
       VALUES ($1, $2, $3, 'confirmation', 'email', $4, now() - $5::interval) RETURNING id`,
      [appt!.clinic_id, appt!.patient_id, appointmentId, `starvation:${randomUUID()}`, age],
    );
    const d = await pg.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, created_at)
       VALUES ($1, gen_random_uuid(), 'appointment.created', '{}', now() - $2::interval) RETURNING id`,
      [endpoint!.id, age],
    );
    notices.push(n.rows[0]!.id);
    deliveries.push(d.rows[0]!.id);
  }
  const nq = await c.queues.getNotificationQueue();
  const wq = await c.queues.getWebhookQueue();
  for (let k = 0; k < 3; k++) {
    await nq.add('notification.send', { notificationId: notices[k]! }, { jobId: notices[k]! });
    await wq.add('webhook.deliver', { deliveryId: deliveries[k]! }, c.deliver.deliveryJobOptions(deliveries[k]!));
  }
  try {
    // Two rows a pass: two live jobs first; then the third and the stranded row; then nothing is due.
    const two = (requeued: number) => ({ checked: 2, requeued });
    expect(await sweepPass(2)).toEqual({ notices: two(0), deliveries: two(0) });
    expect(await sweepPass(2)).toEqual({ notices: two(1), deliveries: two(1) });
    expect(await sweepPass(2)).toEqual(NO_SENDS);
    expect(await jobState('notification', notices[3]!)).toMatchObject({ state: 'waiting' });
    expect(await jobState('webhook', deliveries[3]!)).toMatchObject({ state: 'waiting' });
  } finally {
    for (const id of notices) await (await nq.getJob(id))?.remove();
    for (const id of deliveries) await (await wq.getJob(id))?.remove();
    await pg.query("UPDATE notifications SET status = 'skipped' WHERE id = ANY($1::uuid[])", [notices]);
    await pg.query("UPDATE webhook_deliveries SET status = 'failed' WHERE id = ANY($1::uuid[])", [deliveries]);
  }
});

it('events whose jobs are merely slow cannot hide a dead one from the re-drive: each one found queued leaves the window', async () => {
  // Oldest publish first: three events whose jobs wait in the queue, then one whose job is gone.
  const ids: string[] = [];
  for (let k = 0; k < 4; k++) {
    const { rows } = await pg.query<{ id: string }>(
      `INSERT INTO outbox_events (clinic_id, type, aggregate_id, published_at, attempts)
       VALUES (gen_random_uuid(), 'control.created', gen_random_uuid(), now() - $1::interval, 1) RETURNING id`,
      [`${180 - k} minutes`],
    );
    ids.push(rows[0]!.id);
  }
  const agenda = await c.queues.getAgendaQueue();
  for (const id of ids.slice(0, 3)) await agenda.add('domain.event', { eventId: id }, { jobId: id });
  const before = await eventRow(ids[0]!);
  try {
    expect(await c.relay.redriveOutbox({ afterMs: HOUR, limit: 2 })).toEqual({ checked: 2, redriven: 0 });
    // Last seen queued: its publish time moves to now, nothing else changes.
    const seen = await eventRow(ids[0]!);
    expect(seen).toMatchObject({ processed_at: null, attempts: 1, last_error: null });
    expect(seen.published_at!.getTime()).toBeGreaterThan(before.published_at!.getTime() + HOUR);
    expect(await c.relay.redriveOutbox({ afterMs: HOUR, limit: 2 })).toEqual({ checked: 2, redriven: 1 });
    expect(await eventRow(ids[3]!)).toMatchObject({ attempts: 2, last_error: 'redriven, job missing' });
    expect(await c.relay.redriveOutbox({ afterMs: HOUR, limit: 2 })).toEqual({ checked: 0, redriven: 0 });
  } finally {
    for (const id of ids) await (await agenda.getJob(id))?.remove();
    await pg.query('UPDATE outbox_events SET processed_at = now() WHERE id = ANY($1::uuid[])', [ids]);
  }
});
