/**
 * Retention (issue 12, item 4): per-clinic settings through PATCH /v1/clinic, and the
 * `retention.purge` job on real rows. Rows are written with past `created_at` (the only thing the
 * test fakes is time); the purge runs against PostgreSQL as the worker runs it. Also: batches and
 * statements bounded per run, two purges at once, and BullMQ job history trimmed by age.
 */
import { Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { get, invoke } from '../support/invoke';
import { useSuite } from '../support/suite';
import { until } from '../support/until';
import { TEST_REDIS_URL } from '../setup/test-env';

const suite = useSuite({
  env: { AGENDA_PROFILE: 'worker' },
  modules: {
    clinicFn: () => import('../../functions/http/clinic'),
    purge: () => import('../../lib/domain/retention/purge'),
    rules: () => import('../../lib/domain/retention/rules'),
    processor: () => import('../../lib/jobs/processors/retention-purge'),
    history: () => import('../../lib/platform/queues/trim-history'),
    queues: () => import('../../lib/platform/queues/queues'),
    redis: () => import('../../lib/platform/redis/client'),
  },
  pg: true,
  obliterateQueues: true,
});
const c = suite.m;
const q = (sql: string, params: unknown[] = []) => suite.pg.query(sql, params);
const ago = (days: number) => new Date(Date.now() - days * 86_400_000);

async function clinicWith(retention?: Record<string, number>) {
  const clinic = await newClinic();
  if (retention) {
    const res = await invoke(c.clinicFn.handler, { method: 'PATCH', path: '/v1/clinic', routeKey: 'PATCH /v1/clinic', body: { retention }, ...clinic.auth });
    expect(res.status).toBe(200);
  }
  const { rows } = await q('INSERT INTO patients (clinic_id, name, email) VALUES ($1, $2, $3) RETURNING id', [clinic.clinicId, 'Ana Souza', 'ana@example.org']);
  const { rows: [endpoint] } = await q("INSERT INTO webhook_endpoints (clinic_id, url, event_types, secret) VALUES ($1, 'https://hooks.example.org/x', '{*}', 'whsec_x') RETURNING id", [clinic.clinicId]);
  return { ...clinic, patientId: rows[0].id as string, endpointId: endpoint.id as string };
}

type Clinic = Awaited<ReturnType<typeof clinicWith>>;

async function event(clinic: Clinic, days: number, processed = true): Promise<string> {
  const { rows } = await q(
    "INSERT INTO outbox_events (clinic_id, type, aggregate_id, created_at, published_at, processed_at) VALUES ($1, 'appointment.created', $2, $3, $3, $4) RETURNING id",
    [clinic.clinicId, randomUUID(), ago(days), processed ? ago(days) : null],
  );
  return rows[0].id;
}

async function notice(clinic: Clinic, days: number, status: string, lastError: string | null = null): Promise<string> {
  const { rows } = await q(
    "INSERT INTO notifications (clinic_id, patient_id, kind, channel, status, last_error, dedupe_key, created_at) VALUES ($1, $2, 'confirmation', 'email', $3, $4, $5, $6) RETURNING id",
    [clinic.clinicId, clinic.patientId, status, lastError, randomUUID(), ago(days)],
  );
  return rows[0].id;
}

/** A delivery `days` old with one attempt whose response excerpt echoes patient data. */
async function delivery(clinic: Clinic, days: number, status: string): Promise<{ id: string; attemptId: string }> {
  const { rows: [d] } = await q(
    "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, status, created_at) VALUES ($1, $2, 'appointment.created', '{}', $3, $4) RETURNING id",
    [clinic.endpointId, randomUUID(), status, ago(days)],
  );
  const { rows: [a] } = await q(
    "INSERT INTO webhook_attempts (delivery_id, attempt_no, status_code, latency_ms, error, response_excerpt, created_at) VALUES ($1, 1, 500, 12, 'HTTP 500', 'no patient ana@example.org', $2) RETURNING id",
    [d.id, ago(days)],
  );
  return { id: d.id, attemptId: a.id };
}

const exists = async (table: string, id: string) => (await q(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).rowCount === 1;
const attempt = async (id: string) => (await q('SELECT error, response_excerpt FROM webhook_attempts WHERE id = $1', [id])).rows[0];
const lastError = async (id: string) => (await q('SELECT last_error FROM notifications WHERE id = $1', [id])).rows[0]?.last_error;

it('PATCH /v1/clinic stores the settings it names; GET shows every setting resolved; null returns one to its default', async () => {
  const clinic = await newClinic();
  const patch = (retention: unknown) => invoke(c.clinicFn.handler, { method: 'PATCH', path: '/v1/clinic', routeKey: 'PATCH /v1/clinic', body: { retention }, ...clinic.auth });
  expect((await patch({ outboxEventsDays: 10, notificationsDays: 60 })).status).toBe(200);
  expect((await patch({ notificationsDays: null, webhookDeliveriesDays: 30 })).body.retention).toEqual({
    outboxEventsDays: 10, webhookAttemptDetailsDays: 7, webhookDeliveriesDays: 30, notificationErrorsDays: 30, notificationsDays: 365, auditEventsDays: 1825,
  });
  expect((await q('SELECT retention FROM clinics WHERE id = $1', [clinic.clinicId])).rows[0].retention).toEqual({ outboxEventsDays: 10, webhookDeliveriesDays: 30 });
  expect((await get(c.clinicFn.handler, '/v1/clinic', { routeKey: 'GET /v1/clinic', ...clinic.auth })).body.retention.outboxEventsDays).toBe(10);
  const refused = await patch({ webhookDeliveriesDays: 3 });
  expect(refused.status).toBe(400);
  expect(JSON.stringify(refused.body.error.details)).toContain('webhookDeliveriesDays');
});

it("purges each clinic's rows past its own settings, keeps the rest, leaves a clinic with longer settings untouched; a second run finds nothing", async () => {
  const a = await clinicWith({ outboxEventsDays: 10, notificationsDays: 30, notificationErrorsDays: 7 });
  const b = await clinicWith({ outboxEventsDays: 400, webhookAttemptDetailsDays: 400, webhookDeliveriesDays: 400, notificationErrorsDays: 400, notificationsDays: 400 });
  const rows = async (cl: Clinic) => ({
    events: { old: await event(cl, 100), pastSetting: await event(cl, 20), recent: await event(cl, 5), unprocessed: await event(cl, 100, false) },
    notices: { sentOld: await notice(cl, 100, 'sent'), pendingOld: await notice(cl, 100, 'pending'), failedWithError: await notice(cl, 20, 'failed', 'SMTP 451 try later'), recentError: await notice(cl, 1, 'failed', 'SMTP 451') },
    deliveries: { old: await delivery(cl, 100, 'delivered'), mid: await delivery(cl, 20, 'failed'), pendingOld: await delivery(cl, 100, 'pending'), recent: await delivery(cl, 1, 'delivered') },
  });
  const ra = await rows(a);
  const rb = await rows(b);

  await c.processor.processRetentionPurge();

  // Clinic A: outbox 10 days, notices 30 days (errors 7), deliveries 90 days (default), attempt details 7 (default).
  expect([await exists('outbox_events', ra.events.old), await exists('outbox_events', ra.events.pastSetting)]).toEqual([false, false]);
  expect([await exists('outbox_events', ra.events.recent), await exists('outbox_events', ra.events.unprocessed)]).toEqual([true, true]);
  expect([await exists('notifications', ra.notices.sentOld), await exists('notifications', ra.notices.pendingOld)]).toEqual([false, true]);
  expect([await lastError(ra.notices.failedWithError), await lastError(ra.notices.recentError)]).toEqual([null, 'SMTP 451']);
  expect([await exists('webhook_deliveries', ra.deliveries.old.id), await exists('webhook_attempts', ra.deliveries.old.attemptId)]).toEqual([false, false]);
  expect(await exists('webhook_deliveries', ra.deliveries.pendingOld.id)).toBe(true);
  expect(await attempt(ra.deliveries.mid.attemptId)).toEqual({ error: null, response_excerpt: null });
  expect(await attempt(ra.deliveries.recent.attemptId)).toEqual({ error: 'HTTP 500', response_excerpt: 'no patient ana@example.org' });

  // Clinic B keeps everything for 400 days: nothing of it was touched.
  for (const id of Object.values(rb.events)) expect(await exists('outbox_events', id)).toBe(true);
  for (const id of Object.values(rb.notices)) expect(await exists('notifications', id)).toBe(true);
  expect(await lastError(rb.notices.failedWithError)).toBe('SMTP 451 try later');
  for (const d of Object.values(rb.deliveries)) expect(await attempt(d.attemptId)).toEqual({ error: 'HTTP 500', response_excerpt: 'no patient ana@example.org' });

  const again = await c.purge.purgeExpired();
  expect(Object.values(again).map((r) => r.rows)).toEqual(Object.values(again).map(() => 0));
});

it('bounds each run: at most `batch` rows per statement and `maxStatements` statements per rule; the next run goes on', async () => {
  const cl = await clinicWith();
  for (let i = 0; i < 25; i++) await event(cl, 50);
  const outbox = c.rules.RETENTION_RULES.filter((r) => r.name === 'outbox_events');
  const left = async () => Number((await q('SELECT count(*) FROM outbox_events WHERE clinic_id = $1', [cl.clinicId])).rows[0].count);

  expect(await c.purge.purgeExpired({ rules: outbox, batch: 10, maxStatements: 2 })).toEqual({ outbox_events: { rows: 20, statements: 2, more: true } });
  expect(await left()).toBe(5);
  expect(await c.purge.purgeExpired({ rules: outbox, batch: 10, maxStatements: 2 })).toEqual({ outbox_events: { rows: 5, statements: 1, more: false } });
  expect(await left()).toBe(0);
});

it('two purges at once (two workers) both succeed, take different rows, and leave nothing behind', async () => {
  const cl = await clinicWith();
  await q(
    "INSERT INTO outbox_events (clinic_id, type, aggregate_id, created_at, processed_at) SELECT $1, 'appointment.created', gen_random_uuid(), $2, $2 FROM generate_series(1, 400)",
    [cl.clinicId, ago(60)],
  );
  const outbox = c.rules.RETENTION_RULES.filter((r) => r.name === 'outbox_events');
  const runs = await Promise.allSettled([0, 1].map(() => c.purge.purgeExpired({ rules: outbox, batch: 25, maxStatements: 100 })));
  expect(runs.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  const deleted = runs.map((r) => (r as PromiseFulfilledResult<Record<string, { rows: number }>>).value.outbox_events!.rows);
  expect(deleted[0]! + deleted[1]!).toBe(400);
  expect((await q('SELECT count(*) FROM outbox_events WHERE clinic_id = $1', [cl.clinicId])).rows[0].count).toBe('0');
});

it("trims finished jobs past their queue's age from Redis, keeps recent ones", async () => {
  const queue = await c.queues.getAgendaQueue();
  const redis = new URL(TEST_REDIS_URL);
  const ids = { oldDone: randomUUID(), newDone: randomUUID(), oldFailed: randomUUID(), newFailed: randomUUID() };
  const worker = new Worker('agenda', async (job) => {
    if ((job.data as { fail: boolean }).fail) throw new Error('planned failure');
  }, { connection: { host: redis.hostname, port: Number(redis.port || 6379), maxRetriesPerRequest: null }, prefix: process.env.QUEUE_PREFIX });
  try {
    const add = (id: string, fail: boolean) => queue.add('system.canary', { canaryId: id, fail } as never, { jobId: id, attempts: 1 });
    await Promise.all([add(ids.oldDone, false), add(ids.newDone, false), add(ids.oldFailed, true), add(ids.newFailed, true)]);
    await until('all four finished', () => Promise.all(Object.values(ids).map(async (id) => (await queue.getJob(id))?.finishedOn)), (f) => f.every(Boolean));
  } finally {
    await worker.close();
  }
  // Time is the only thing faked: a finished set's score is the job's finish time.
  const r = await c.redis.getRedis();
  const set = (name: string) => `${process.env.QUEUE_PREFIX}:agenda:${name}`;
  expect(await r.zadd(set('completed'), 'XX', 'CH', Date.now() - 25 * 3_600_000, ids.oldDone)).toBe(1); // past 24 h
  expect(await r.zadd(set('failed'), 'XX', 'CH', Date.now() - 8 * 86_400_000, ids.oldFailed)).toBe(1); // past 7 days

  const trimmed = await c.history.trimJobHistory();
  expect(trimmed.agenda).toEqual({ completed: 1, failed: 1 });
  expect([await queue.getJob(ids.oldDone), await queue.getJob(ids.oldFailed)]).toEqual([undefined, undefined]);
  const kept = (await queue.getJobs(['completed', 'failed'])).filter((j) => j.name === 'system.canary').map((j) => j.id);
  expect(kept.sort()).toEqual([ids.newDone, ids.newFailed].sort());
});
