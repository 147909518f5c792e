/**
 * Outbox: events are written in the booking's transaction (a refused booking writes none), published
 * after commit as `domain.event` jobs whose id is the event id; with Redis unreachable the booking
 * still succeeds and its event waits unpublished; once Redis is back one relay pass publishes it,
 * exactly once.
 */
import { TEST_REDIS_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { untilRedisBack } from '../support/redis-link';
import { useSuite } from '../support/suite';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

let proxy: TcpProxy;

// Declared before the suite so it runs before the suite's cleanup: a case that failed while Redis
// was down must not leave the queue obliteration and closeAll facing the outage.
afterAll(() => redisUp());

const suite = useSuite({
  // REDIS_URL points at the proxy once it listens (set below, then the container reloaded).
  env: { AGENDA_PROFILE: 'api', REDIS_URL: TEST_REDIS_URL },
  modules: {
    appointments: () => import('../../lib/domain/appointments/service'),
    outbox: () => import('../../lib/domain/events/outbox'),
    relay: () => import('../../lib/jobs/outbox/relay'),
    processors: () => import('../../lib/jobs/processors/domain-event'),
    relayJob: () => import('../../lib/jobs/processors/outbox-relay'),
    queues: () => import('../../lib/platform/queues/queues'),
    schedulers: () => import('../../worker/schedulers'),
    redis: () => import('../../lib/platform/redis/client'),
  },
  pg: true,
  obliterateQueues: true,
});
const c = suite.m;

beforeAll(async () => {
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  process.env.REDIS_URL = proxy.urlFor(TEST_REDIS_URL);
  await suite.reload();
});

afterAll(() => proxy.close());

/** Redis reachable again, and this (function) container's link back: it remembers an outage for a few seconds. */
async function redisUp() {
  await proxy.up();
  await untilRedisBack(() => c.redis.getRedis());
}

async function setup() {
  const clinic = await newClinic();
  const pro = await newProfessional(clinic.clinicId);
  const patient = await newPatient(clinic.clinicId);
  return { scope: { clinicId: clinic.clinicId, timeZone: 'America/Sao_Paulo' }, pro, patient };
}

const events = async (aggregateId: string) =>
  (
    await suite.pg.query<{ id: string; type: string; published_at: Date | null; attempts: number; last_error: string | null; payload: object }>(
      'SELECT id, type, published_at, attempts, last_error, payload FROM outbox_events WHERE aggregate_id = $1 ORDER BY created_at',
      [aggregateId],
    )
  ).rows;

/** Every `domain.event` job in the queue for one event, whatever its state. */
async function domainJobsFor(eventId: string) {
  const q = await c.queues.getAgendaQueue();
  const jobs = await q.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  return jobs.filter((j) => j?.name === 'domain.event' && (j.data as { eventId: string }).eventId === eventId);
}

it('publishes after commit: the job id is the event id and the row is marked published; payload carries ids only', async () => {
  await redisUp();
  const s = await setup();
  const appt = await c.appointments.createAppointment(s.scope, {
    professionalId: s.pro.id,
    patientId: s.patient.id,
    startsAt: localAt(3, 10),
    notes: 'sensitive note',
  });
  const [ev] = await events(appt.id);
  expect(ev).toMatchObject({ type: 'appointment.created', attempts: 1, last_error: null });
  expect(ev!.published_at).toBeInstanceOf(Date);
  expect(JSON.stringify(ev!.payload)).not.toContain('sensitive');
  expect(JSON.stringify(ev!.payload)).not.toContain('Paciente');
  const job = await (await c.queues.getAgendaQueue()).getJob(ev!.id);
  expect(job).toMatchObject({ name: 'domain.event', data: { eventId: ev!.id } });
  // A republish of the same event is deduplicated by BullMQ.
  await c.outbox.publishEvents([ev!.id]);
  expect(await domainJobsFor(ev!.id)).toHaveLength(1);
});

it('a refused booking writes no outbox row (same transaction)', async () => {
  await redisUp();
  const s = await setup();
  await c.appointments.createAppointment(s.scope, { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 10) });
  const before = await suite.pg.query('SELECT count(*)::int AS n FROM outbox_events WHERE clinic_id = $1', [s.scope.clinicId]);
  await expect(
    c.appointments.createAppointment(s.scope, { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 10, 15) }),
  ).rejects.toMatchObject({ code: 'conflict' });
  await expect(
    c.appointments.createAppointment(s.scope, { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 21) }),
  ).rejects.toMatchObject({ code: 'rule_violated' });
  const after = await suite.pg.query('SELECT count(*)::int AS n FROM outbox_events WHERE clinic_id = $1', [s.scope.clinicId]);
  expect(after.rows[0].n).toBe(before.rows[0].n);
});

it('Redis down during a booking: the booking succeeds, the event waits; after Redis is back one relay pass publishes it exactly once', async () => {
  await redisUp();
  const s = await setup();
  await c.queues.getAgendaQueue(); // a warm container: its queue exists before the fault
  await proxy.down();

  const started = Date.now();
  const appt = await c.appointments.createAppointment(s.scope, { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 10) });
  const elapsed = Date.now() - started;
  console.info(`outbox: booking with Redis down answered in ${elapsed} ms`);
  expect(appt.status).toBe('scheduled');
  expect(elapsed).toBeLessThan(3_000);
  const [ev] = await events(appt.id);
  expect(ev).toMatchObject({ type: 'appointment.created', published_at: null, attempts: 1 });
  expect(ev!.last_error).toEqual(expect.any(String));

  // While Redis is down the relay cannot publish either, and says so without throwing.
  expect(await c.relay.relayOutbox({ olderThanMs: 0 })).toMatchObject({ published: 0 });

  await redisUp();
  const pass = await c.relay.relayOutbox({ olderThanMs: 0 });
  expect(pass.published).toBeGreaterThanOrEqual(1);
  const [published] = await events(appt.id);
  expect(published!.published_at).toBeInstanceOf(Date);
  expect(await domainJobsFor(ev!.id)).toHaveLength(1);

  // Another pass finds nothing of it: still exactly one job.
  await c.relay.relayOutbox({ olderThanMs: 0 });
  expect(await domainJobsFor(ev!.id)).toHaveLength(1);

  // Reminders come with the event, never from the request: processing it (twice, as
  // at-least-once delivery may) syncs them from the appointment's state.
  const q = await c.queues.getAgendaQueue();
  expect(await q.getJob(`reminder:${appt.id}:120`)).toBeUndefined();
  const job = { queue: 'agenda' as const, name: 'domain.event' as const, id: ev!.id, data: { eventId: ev!.id }, attemptsMade: 0, mode: 'inline' as const };
  expect(await c.processors.processDomainEvent(job)).toEqual({ eventId: ev!.id, type: 'appointment.created' });
  const processedAt = (await suite.pg.query('SELECT processed_at FROM outbox_events WHERE id = $1', [ev!.id])).rows[0].processed_at;
  expect(processedAt).toBeInstanceOf(Date);
  expect(await c.processors.processDomainEvent(job)).toEqual({ eventId: ev!.id, type: 'appointment.created' });
  // The first run's mark stands.
  expect((await suite.pg.query('SELECT processed_at FROM outbox_events WHERE id = $1', [ev!.id])).rows[0].processed_at).toEqual(processedAt);
  expect(await q.getJob(`reminder:${appt.id}:120`)).toBeDefined();
  expect(await q.getJob(`reminder:${appt.id}:1440`)).toBeDefined();
});

it('the worker schedules the relay, the expiry scan, the no-show sweep and the socket sweep with upsertJobScheduler (one each, however many upserts)', async () => {
  await redisUp();
  await c.schedulers.startSchedulers();
  await c.schedulers.startSchedulers();
  const q = await c.queues.getAgendaQueue();
  const scheduler = await q.getJobScheduler('outbox-relay');
  expect(scheduler).toMatchObject({ name: 'outbox.relay', every: 10_000 });
  expect(await q.getJobScheduler('controls-expiry-scan')).toMatchObject({ name: 'controls.expiry_scan', every: 3_600_000 });
  expect(await q.getJobScheduler('appointments-no-show-sweep')).toMatchObject({ name: 'appointments.no_show_sweep', every: 300_000 });
  expect(await q.getJobScheduler('sockets-sweep')).toMatchObject({ name: 'sockets.sweep', every: 3_600_000 });
  expect(await q.getJobScheduler('idempotency-purge')).toMatchObject({ name: 'idempotency.purge', every: 600_000 });
  expect(await q.getJobScheduler('retention-purge')).toMatchObject({ name: 'retention.purge', every: 3_600_000 });
  expect(await q.getJobSchedulersCount()).toBe(6);
  const relay = await c.relayJob.processOutboxRelay({ queue: 'agenda', name: 'outbox.relay', id: 'r', data: {}, attemptsMade: 0, mode: 'inline' });
  const count = { checked: expect.any(Number), requeued: expect.any(Number) };
  expect(relay).toEqual({
    found: expect.any(Number),
    published: expect.any(Number),
    redriven: expect.any(Number),
    sends: { notices: count, deliveries: count },
  });
});
