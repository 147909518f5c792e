/**
 * Socket rows do not outlive their sockets (live updates): revoking an API key queues the
 * close of the sockets it opened, and the close job closes them through the Management API
 * (DeleteConnection) and deletes their rows, retrying what failed; the periodic sweep forgets rows
 * past API Gateway's 2-hour maximum, closes those idle past its 10-minute timeout (margins: 5 min)
 * and those of revoked keys. Many sockets close a batch at once, each batch forgotten as soon as it
 * is answered, under one deadline. The Management API is a local stand-in (AWS is the one thing faked).
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { invoke } from '../support/invoke';
import { startFakeManagementApi, type FakeManagementApi } from '../support/management-api';
import { newPatient } from '../support/scheduling-fixtures';
import { newRevokedApiKey, newSocketRow } from '../support/socket-rows';
import { useSuite } from '../support/suite';

const lib = useSuite({
  obliterateQueues: true,
  modules: {
    sweep: () => import('../../lib/domain/realtime/sweep'),
    sweepJob: () => import('../../lib/jobs/processors/sockets-sweep'),
    closeJob: () => import('../../lib/jobs/processors/sockets-close-for-key'),
    keySockets: () => import('../../lib/domain/realtime/key-sockets'),
    connections: () => import('../../lib/domain/realtime/connections'),
    apiKeys: () => import('../../lib/domain/tenancy/api-keys'),
    clinics: () => import('../../lib/domain/tenancy/clinics'),
    http: () => import('../../functions/http/clinic'),
    queues: () => import('../../lib/platform/queues/queues'),
    db: () => import('../../lib/platform/db/client'),
  },
}).m;
let api: FakeManagementApi;

beforeAll(async () => {
  api = await startFakeManagementApi();
});
afterAll(async () => {
  await api.close();
});

beforeEach(() => api.reset());

const MIN = 60_000;
const closesOf = () => api.calls.filter((c) => c.method === 'DELETE').map((c) => c.connectionId);

async function setup() {
  const clinic = await newClinic();
  const db = await lib.db.getDb();
  const key = await db.apiKey.findFirstOrThrow({ where: { clinicId: clinic.clinicId } });
  /** A socket row as $connect leaves it, opened `ageMs` ago and last heard from `idleMs` ago. */
  const socket = (name: string, ageMs: number, idleMs: number, apiKeyId = key.id) => {
    const now = Date.now();
    const [connectedAt, lastSeenAt] = [new Date(now - ageMs), new Date(now - idleMs)];
    return newSocketRow({ clinicId: clinic.clinicId, apiKeyId, endpoint: api.endpoint, scope: 'clinic', connectedAt, lastSeenAt }, name);
  };
  /** `n` fresh sockets of the clinic's key, as close targets in the order made. */
  const many = async (name: string, n: number) => {
    const targets = Array.from({ length: n }, (_, i) => ({ connectionId: `${name}-${i}-${randomUUID().slice(0, 8)}=`, endpoint: api.endpoint }));
    await db.socketConnection.createMany({ data: targets.map((t) => ({ ...t, clinicId: clinic.clinicId, apiKeyId: key.id, scope: 'clinic' })) });
    return targets;
  };
  const rowsLeft = async () => (await db.socketConnection.findMany({ where: { clinicId: clinic.clinicId }, select: { connectionId: true } })).map((r) => r.connectionId).sort();
  return { ...clinic, db, key, socket, many, rowsLeft };
}

describe('the socket sweep', () => {
  it('forgets rows past 2 h + margin, closes rows idle past 10 min + margin and revoked keys, keeps the rest', async () => {
    const s = await setup();
    const { MAX_CONNECTION_MS: max, IDLE_TIMEOUT_MS: idle, SWEEP_MARGIN_MS: margin } = lib.sweep;
    const tooOld = await s.socket('too-old', max + margin + MIN, MIN);
    const oldButInMargin = await s.socket('old-in-margin', max + margin - MIN, MIN);
    const idleGone = await s.socket('idle', 30 * MIN, idle + margin + MIN);
    const idleInMargin = await s.socket('idle-in-margin', 30 * MIN, idle + margin - MIN);
    const idleAlive = await s.socket('idle-alive', 30 * MIN, idle + margin + MIN);
    const idleStuck = await s.socket('idle-stuck', 30 * MIN, idle + margin + MIN);
    const fresh = await s.socket('fresh', MIN, 0);
    const revokedKey = await newRevokedApiKey(s.clinicId);
    const ofRevoked = await s.socket('revoked', MIN, 0, revokedKey.id);
    api.gone.add(idleGone); // API Gateway closed it already
    api.failing.add(idleStuck); // the Management API fails for this one: kept for the next pass

    // An in-app notice nobody received within its maximum age: the same pass records its end.
    const patient = await newPatient(s.clinicId);
    const staleNotice = await s.db.notification.create({
      data: { clinicId: s.clinicId, patientId: patient.id, kind: 'confirmation', channel: 'in_app', dedupeKey: `sweep:${randomUUID()}`, createdAt: new Date(Date.now() - 25 * 60 * MIN) },
    });

    const outcome = await lib.sweepJob.processSocketsSweep();
    expect(outcome.expired).toBeGreaterThanOrEqual(1);
    expect(outcome.closed.failed).toBeGreaterThanOrEqual(1);
    expect(outcome.noticesExpired).toBeGreaterThanOrEqual(1);
    expect(await s.db.notification.findUniqueOrThrow({ where: { id: staleNotice.id } })).toMatchObject({ status: 'skipped', skipReason: 'expired' });
    const closed = closesOf();
    for (const id of [idleGone, idleAlive, idleStuck, ofRevoked]) expect(closed).toContain(id);
    for (const id of [tooOld, oldButInMargin, idleInMargin, fresh]) expect(closed).not.toContain(id);
    expect(await s.rowsLeft()).toEqual([oldButInMargin, idleInMargin, idleStuck, fresh].sort());

    // Next pass: the stuck one closes now.
    api.failing.clear();
    await lib.sweepJob.processSocketsSweep();
    expect(await s.rowsLeft()).toEqual([oldButInMargin, idleInMargin, fresh].sort());
  });
});

describe('closing many sockets', () => {
  const ids = (targets: { connectionId: string }[]) => targets.map((t) => t.connectionId).sort();

  it('closes 50 at once, batch after batch, and forgets each batch before the next goes out', async () => {
    const s = await setup();
    const targets = await s.many('many', 60);
    api.delayMs = 700;
    let leftAtSecondBatch: Promise<string[]> | undefined;
    const { result, arrivals } = await api.arrivalsDuring(
      () => lib.connections.closeAndForget(targets, 'test'),
      (n) => {
        if (n === 51) leftAtSecondBatch = s.rowsLeft();
      },
    );
    expect(result).toEqual({ closed: 60, gone: 0, failed: 0 });
    expect(arrivals).toHaveLength(60);
    // The first 50 all in flight before the first was answered; the 51st only once all were.
    expect(arrivals[49]! - arrivals[0]!).toBeLessThan(api.delayMs);
    expect(arrivals[50]! - arrivals[49]!).toBeGreaterThan(api.delayMs / 2);
    expect(ids(api.calls.slice(0, 50))).toEqual(ids(targets.slice(0, 50)));
    expect((await leftAtSecondBatch)!.filter((id) => ids(targets.slice(0, 50)).includes(id))).toEqual([]);
    expect(await s.rowsLeft()).toEqual([]);
  });

  it('keeps the rows forgotten by batches answered before the deadline; the rest wait for the next pass', async () => {
    const s = await setup();
    const targets = await s.many('slow', 110);
    const { result, arrivals } = await api.arrivalsDuring(
      () => lib.connections.closeAndForget(targets, 'test', { deadlineMs: 1_500 }),
      (n) => {
        if (n === 51) api.delayMs = 2_500; // the second batch hangs past the deadline
      },
    );
    expect(result).toEqual({ closed: 50, gone: 0, failed: 60 });
    expect(arrivals).toHaveLength(100); // the third batch is not tried after the deadline
    expect(await s.rowsLeft()).toEqual(ids(targets.slice(50)));

    api.delayMs = 0;
    await expect(lib.connections.closeAndForget(targets.slice(50), 'test')).resolves.toEqual({ closed: 60, gone: 0, failed: 0 });
    expect(await s.rowsLeft()).toEqual([]);
  }, 20_000);
});

describe('revoking an API key', () => {
  it("queues the close of the key's sockets; the job closes them and deletes their rows, and only theirs", async () => {
    const s = await setup();
    const second = await lib.apiKeys.createApiKey(s.db, s.clinicId, 'front desk', ['read']);
    const [a, b] = [await s.socket('a', MIN, 0, second.id), await s.socket('b', MIN, 0, second.id)];
    const other = await s.socket('other', MIN, 0);

    const res = await invoke(lib.http.revoke, {
      method: 'DELETE',
      path: `/v1/api-keys/${second.id}`,
      pathParameters: { id: second.id },
      headers: { authorization: `Bearer ${await newKeyOf(s.clinicId)}` },
    });
    expect(res.status).toBe(204);
    expect((await s.db.apiKey.findUniqueOrThrow({ where: { id: second.id } })).revokedAt).toBeInstanceOf(Date);
    const job = await (await lib.queues.getAgendaQueue()).getJob(lib.keySockets.closeKeySocketsJobId(second.id));
    expect(job).toMatchObject({ name: 'sockets.close_for_key', data: { apiKeyId: second.id } });
    expect(closesOf()).toEqual([]); // the request itself closes nothing

    api.failing.add(b);
    const run = () => lib.closeJob.processSocketsCloseForKey({ queue: 'agenda', name: 'sockets.close_for_key', id: job!.id!, data: { apiKeyId: second.id }, attemptsMade: 0, mode: 'inline' });
    await expect(run()).rejects.toThrow(/1 of 2 sockets/); // BullMQ retries it
    expect(await s.rowsLeft()).toEqual([b, other].sort());
    api.failing.clear();
    await expect(run()).resolves.toMatchObject({ closed: 1, failed: 0 });
    expect(await s.rowsLeft()).toEqual([other]);
    expect(closesOf()).not.toContain(other);
    expect(closesOf()).toContain(a);
  });

  it("closes nothing for a key that is not revoked, and another clinic's key is not found", async () => {
    const s = await setup();
    const kept = await s.socket('kept', MIN, 0);
    await expect(
      lib.closeJob.processSocketsCloseForKey({ queue: 'agenda', name: 'sockets.close_for_key', id: 'x', data: { apiKeyId: s.key.id }, attemptsMade: 0, mode: 'inline' }),
    ).resolves.toMatchObject({ closed: 0 });
    expect(await s.rowsLeft()).toEqual([kept]);
    const foreign = await setup();
    await expect(lib.clinics.revokeApiKey(s.clinicId, foreign.key.id)).rejects.toMatchObject({ code: 'not_found' });
    expect(await (await lib.queues.getAgendaQueue()).getJob(lib.keySockets.closeKeySocketsJobId(foreign.key.id))).toBeUndefined();
  });
});

/** A fresh key of the clinic to call the API with (the key being revoked must not be the caller's). */
async function newKeyOf(clinicId: string): Promise<string> {
  return (await lib.apiKeys.createApiKey(await lib.db.getDb(), clinicId, 'caller', ['read', 'write', 'admin'])).key;
}
