/**
 * A Redis outage is degraded mode, not down. With Redis unreachable (a TCP proxy in front
 * of the real Redis, cut; the shared server is never touched) the API keeps serving what
 * PostgreSQL can: slots (computed from PostgreSQL), bookings, 409 on a taken slot, reschedules and
 * cancels, `/v1` reads with the rate limit held by the in-memory insurance limiter; each within 3 s.
 * `/health` says Redis is down (503). Once Redis is back, no slot list cached before the outage is
 * served stale, and the worker (its real consumers and job schedulers, in a container of their own)
 * publishes every event recorded meanwhile through its relay: each webhook and e-mail goes out once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from '../support/until';
import Redis from 'ioredis';
import { Client } from 'pg';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../setup/test-env';
import { get, post, type InvokeRequest, type InvokeResult, getHealth } from '../support/invoke';
import { untilRedisBack } from '../support/redis-link';
import { localAt } from '../support/scheduling-fixtures';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/** The bound on every answer during the outage: our own timeouts, well under API Gateway's 29 s. */
const BOUND_MS = 3_000;

type Api = {
  health: typeof import('../../functions/http/health').handler;
  slots: typeof import('../../functions/http/slots').handler;
  appts: typeof import('../../functions/http/appointments');
  webhooks: typeof import('../../functions/http/webhooks');
  keys: typeof import('../../functions/http/clinic');
  redis: typeof import('../../lib/platform/redis/client');
  newClinic: typeof import('../support/clinic').newClinic;
  fixtures: typeof import('../support/scheduling-fixtures');
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
};
type WorkerContainer = {
  workers: import('bullmq').Worker[];
  stop: typeof import('../../worker/consumers').stopConsumers;
  queues: typeof import('../../lib/platform/queues/queues');
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
};

let proxy: TcpProxy;
let smtp: SmtpSink;
let receiver: http.Server;
let hookUrl: string;
/** The `webhook-id` of every request the receiver got. */
const hooks: { id: string }[] = [];
let pg: Client;
let direct: Redis;
const apis: Api[] = [];
let worker: WorkerContainer | undefined;

/**
 * Loads a new module registry (a simulated container) with these settings, read at once, and opens
 * its database (Prisma's query compiler must load before another registry's does).
 */
async function withEnv<T>(env: Record<string, string>, load: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  jest.resetModules();
  try {
    const loaded = await load();
    (require('../../lib/platform/config') as typeof import('../../lib/platform/config')).getConfig();
    await (require('../../lib/platform/db/client') as typeof import('../../lib/platform/db/client')).getDb();
    return loaded;
  } finally {
    process.env = saved;
  }
}

async function apiContainer(env: Record<string, string> = {}): Promise<Api> {
  const api = await withEnv(
    { AGENDA_PROFILE: 'api', ...env },
    async () => ({
      health: (await import('../../functions/http/health')).handler,
      slots: (await import('../../functions/http/slots')).handler,
      appts: await import('../../functions/http/appointments'),
      webhooks: await import('../../functions/http/webhooks'),
      keys: await import('../../functions/http/clinic'),
      redis: await import('../../lib/platform/redis/client'),
      newClinic: (await import('../support/clinic')).newClinic,
      fixtures: await import('../support/scheduling-fixtures'),
      closeAll: (await import('../../lib/platform/lifecycle/close-all')).closeAll,
    }),
  );
  apis.push(api);
  return api;
}

/** The worker: its real BullMQ consumers and job schedulers (the relay every second), in its own registry. */
async function startWorkerContainer(): Promise<WorkerContainer> {
  return withEnv(
    { AGENDA_PROFILE: 'worker', OUTBOX_RELAY_EVERY_MS: '1000' },
    async () => {
      const { getConfig } = await import('../../lib/platform/config');
      const { getRedis } = await import('../../lib/platform/redis/client');
      const consumers = await import('../../worker/consumers');
      const { startSchedulers } = await import('../../worker/schedulers');
      const workers = consumers.startConsumers(getConfig(), await getRedis());
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      await startSchedulers();
      return {
        workers,
        stop: consumers.stopConsumers,
        queues: await import('../../lib/platform/queues/queues'),
        closeAll: (await import('../../lib/platform/lifecycle/close-all')).closeAll,
      };
    },
  );
}

beforeAll(async () => {
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  smtp = await startSmtpSink();
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hooks.push({ id: String(req.headers['webhook-id']) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  // Every container of this file: Redis through the proxy, loopback receivers, the SMTP sink.
  Object.assign(process.env, {
    REDIS_URL: proxy.urlFor(TEST_REDIS_URL),
    WEBHOOKS_ALLOW_LOOPBACK: 'true',
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
  });
  pg = new Client({ connectionString: TEST_DATABASE_URL });
  await pg.connect();
  direct = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await proxy.up();
  if (worker) {
    await worker.stop(worker.workers, 20_000);
    for (const q of [worker.queues.getAgendaQueue, worker.queues.getWebhookQueue, worker.queues.getNotificationQueue, worker.queues.getRenovacaoQueue]) {
      await (await q()).obliterate({ force: true }).catch(() => undefined);
    }
    await worker.closeAll();
  }
  for (const api of apis) await api.closeAll();
  direct?.disconnect();
  await pg?.end();
  receiver?.closeAllConnections();
  await new Promise((ok) => (receiver ? receiver.close(ok) : ok(undefined)));
  await smtp?.close();
  await proxy?.close();
}, 60_000);

/** One request, its answer asserted to come within the bound. */
async function within<T extends InvokeResult>(what: string, call: () => Promise<T>): Promise<T> {
  const res = await call();
  expect({ what, inTime: res.elapsedMs < BOUND_MS, elapsedMs: res.elapsedMs }).toMatchObject({ what, inTime: true });
  return res;
}

it('serves bookings, slots and rate-limited reads within 3 s while Redis is down; then every event goes out once and no stale slot list is served', async () => {
  await proxy.up();
  const api = await apiContainer();
  const limited = await apiContainer({ RATE_LIMIT_POINTS: '3' });

  // Before the outage: a clinic, a professional (08:00-20:00 every day), a patient with e-mail, a
  // webhook endpoint for every event, and the professional's slots cached in Redis.
  const clinic = await api.newClinic();
  const auth = clinic.auth;
  const pro = await api.fixtures.newProfessional(clinic.clinicId);
  const patient = await api.fixtures.newPatient(clinic.clinicId);
  const hook = await post(api.webhooks.create, '/v1/webhooks', { url: hookUrl, eventTypes: ['*'] }, auth);
  expect(hook.status).toBe(201);
  const day = localAt(3, 0).slice(0, 10);
  const nextDay = localAt(4, 0).slice(0, 10);
  const slotsReq: Omit<InvokeRequest, 'path' | 'method'> = { ...auth, pathParameters: { id: pro.id } };
  const slotsPath = `/v1/professionals/${pro.id}/slots?from=${day}&to=${nextDay}`;
  const [a, b, bMoved, c] = [localAt(3, 10), localAt(3, 11), localAt(3, 14), localAt(3, 15)];
  const utc = (iso: string) => new Date(iso).toISOString();
  const starts = (res: InvokeResult) => (res.body.slots as { startUtc: string }[]).map((s) => s.startUtc);
  expect((await get(api.slots, slotsPath, slotsReq)).headers['x-cache']).toBe('miss');
  const cached = await get(api.slots, slotsPath, slotsReq);
  expect(cached.headers['x-cache']).toBe('hit');
  expect(starts(cached)).toEqual(expect.arrayContaining([utc(a), utc(b), utc(bMoved), utc(c)]));
  const versionBefore = await direct.get(`slots:ver:${pro.id}`);

  // --- Redis goes away ---
  await proxy.down();
  const book = (startsAt: string) => () => post(api.appts.create, '/v1/appointments', { professionalId: pro.id, patientId: patient.id, startsAt }, auth);
  const action = (fn: Api['appts']['cancel'], id: string, name: string, body: unknown) => () =>
    post(fn, `/v1/appointments/${id}/${name}`, body, { ...auth, pathParameters: { id } });

  const health = await within('health', () => getHealth(api.health));
  expect(health.status).toBe(503);
  expect(health.body.down).toEqual(expect.arrayContaining(['redis']));
  expect(health.body.down).not.toContain('database');

  const slots = await within('slots', () => get(api.slots, slotsPath, slotsReq));
  expect(slots.status).toBe(200);
  expect(slots.headers['x-cache']).toBe('bypass'); // computed from PostgreSQL
  expect(starts(slots)).toContain(utc(a));

  const bookedA = await within('booking A', book(a));
  expect(bookedA.status).toBe(201);
  const taken = await within('same slot again', book(a));
  expect(taken.status).toBe(409);
  expect(taken.body.error).toMatchObject({ code: 'conflict', details: { reason: 'slot_taken' } });
  const bookedB = await within('booking B', book(b));
  expect(bookedB.status).toBe(201);
  const moved = await within('reschedule B', action(api.appts.reschedule, bookedB.body.id, 'reschedule', { startsAt: bMoved }));
  expect(moved.status).toBe(200);
  expect(moved.body).toMatchObject({ startsAt: utc(bMoved), status: 'scheduled' });
  const bookedC = await within('booking C', book(c));
  expect(bookedC.status).toBe(201);
  const cancelled = await within('cancel C', action(api.appts.cancel, bookedC.body.id, 'cancel', { reason: 'paciente pediu' }));
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('cancelled');
  const after = await within('slots after the changes', () => get(api.slots, slotsPath, slotsReq));
  expect(after.status).toBe(200);
  expect(starts(after)).not.toContain(utc(a));
  expect(starts(after)).toContain(utc(c));

  // A /v1 read in another container with a budget of 3: the insurance limiter counts in memory.
  const reads: number[] = [];
  for (let i = 0; i < 4; i += 1) reads.push((await within(`read ${i + 1}`, () => get(limited.keys.clinic, '/v1/clinic', auth))).status);
  expect(reads).toEqual([200, 200, 200, 429]);

  // Every change committed with its events, none published: they wait for the relay.
  const ids = [bookedA.body.id, bookedB.body.id, bookedC.body.id];
  const events = async () =>
    (
      await pg.query<{ id: string; type: string; published_at: Date | null; processed_at: Date | null; last_error: string | null }>(
        'SELECT id, type, published_at, processed_at, last_error FROM outbox_events WHERE aggregate_id = ANY($1::uuid[]) ORDER BY created_at',
        [ids],
      )
    ).rows;
  const recorded = await events();
  expect(recorded.map((e) => e.type)).toEqual([
    'appointment.created',
    'appointment.created',
    'appointment.rescheduled',
    'appointment.created',
    'appointment.cancelled',
  ]);
  for (const e of recorded) expect(e).toMatchObject({ published_at: null, processed_at: null, last_error: expect.any(String) });
  // The professional is marked: its cached lists could not be dropped.
  const staleMark = async () =>
    (await pg.query<{ since: Date | null }>('SELECT slot_cache_stale_since AS since FROM professionals WHERE id = $1', [pro.id])).rows[0]!.since;
  expect(await staleMark()).toEqual(expect.any(Date));

  // --- Redis is back ---
  await proxy.up();
  // A slot list cached before the outage still sits in Redis under the old version, and lists A's
  // slot as free: served as it is, it would be stale.
  expect(await direct.get(`slots:ver:${pro.id}`)).toBe(versionBefore);
  const staleKeys = await direct.keys(`slots:${pro.id}:v${versionBefore ?? 0}:*`);
  expect(staleKeys.length).toBeGreaterThan(0);
  expect(await direct.get(staleKeys[0]!)).toContain(utc(a));
  // A container that reaches Redis sees the cached list, and leaves it: the professional is marked stale.
  const fresh = await apiContainer();
  const back = await within('slots once Redis is back', () => get(fresh.slots, slotsPath, slotsReq));
  expect(back.status).toBe(200);
  expect(back.headers['x-cache']).toBe('bypass');
  expect(starts(back)).not.toContain(utc(a));
  expect(starts(back)).not.toContain(utc(bMoved));

  // The worker starts consuming: its relay drops the stale lists (bumps the professional's cache
  // version, clears the mark), publishes what the outage left, and each event fans out once.
  worker = await startWorkerContainer();
  await until('events processed', events, (rows) => rows.every((e) => e.published_at && e.processed_at));
  expect(Number(await direct.get(`slots:ver:${pro.id}`))).toBeGreaterThan(Number(versionBefore ?? 0));
  expect(await staleMark()).toBeNull();
  const deliveries = async () =>
    (
      await pg.query<{ id: string; event_type: string; status: string; attempts: number }>(
        'SELECT id, event_type, status, attempts FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at',
        [hook.body.id],
      )
    ).rows;
  const delivered = await until('webhooks delivered', deliveries, (rows) => rows.length === 5 && rows.every((d) => d.status === 'delivered'));
  const emails = async () =>
    (
      await pg.query<{ id: string; appointment_id: string; kind: string; status: string; attempts: number }>(
        "SELECT id, appointment_id, kind, status, attempts FROM notifications WHERE appointment_id = ANY($1::uuid[]) AND channel = 'email' ORDER BY created_at",
        [ids],
      )
    ).rows;
  await until('e-mails settled', emails, (rows) => rows.length === 5 && rows.every((n) => n.status === 'sent' || n.status === 'skipped'));
  // A few more relay passes: nothing goes out again.
  await sleep(3_500);

  expect(delivered.map((d) => d.event_type).sort()).toEqual(
    ['appointment.cancelled', 'appointment.created', 'appointment.created', 'appointment.created', 'appointment.rescheduled'].sort(),
  );
  expect(hooks).toHaveLength(5);
  expect(new Set(hooks.map((h) => h.id))).toEqual(new Set(delivered.map((d) => d.id)));
  expect((await deliveries()).every((d) => d.attempts === 1)).toBe(true);
  // The notices true at sending time went out, once each: A's confirmation, B's new time, C's
  // cancellation; B's confirmation (moved) and C's (cancelled) are skipped, as without an outage.
  const sent = (await emails()).filter((n) => n.status === 'sent');
  expect(sent.map((n) => `${n.kind}:${ids.indexOf(n.appointment_id)}`).sort()).toEqual(['cancellation:2', 'confirmation:0', 'reschedule:1']);
  expect(sent.every((n) => n.attempts === 1)).toBe(true);
  // One message per sent notice, under its id (a second copy of one would show here, named). The
  // queues are shared with the files run before this one: a send one of them left behind may reach
  // this sink too, so only this test's notices are counted.
  const ours = new Set((await emails()).map((n) => `<${n.id}@agenda.notifications>`));
  const mailed = smtp.inbox.map((m) => m.mail.messageId ?? '').filter((id) => ours.has(id));
  expect(mailed.sort()).toEqual(sent.map((n) => `<${n.id}@agenda.notifications>`).sort());
  // Reminders come from the events too, for the appointments still active.
  const agenda = await worker.queues.getAgendaQueue();
  expect(await agenda.getJob(`reminder:${bookedA.body.id}:120`)).toBeDefined();
  expect((await agenda.getJob(`reminder:${bookedB.body.id}:120`))?.data.startsAt).toBe(utc(bMoved));
  expect(await agenda.getJob(`reminder:${bookedC.body.id}:120`)).toBeUndefined();

  // The slot list now comes from the cache again, under the new version, and is right.
  await untilRedisBack(() => api.redis.getRedis());
  const recomputed = await get(api.slots, slotsPath, slotsReq);
  expect(recomputed.headers['x-cache']).toBe('miss');
  expect((await get(api.slots, slotsPath, slotsReq)).headers['x-cache']).toBe('hit');
  expect(starts(recomputed)).not.toContain(utc(a));
  expect(starts(recomputed)).toContain(utc(c));
}, 180_000);
