/**
 * In-app notices reach sockets reliably (issue #4, live updates): a socket that subscribes gets the
 * clinic's notices nobody received yet that match its scope, oldest first, bounded, none older than
 * the maximum age (those are skipped); each notice is marked sent once its push succeeded, failed
 * with the error otherwise; two deliveries at once never push the same notice twice (row locks,
 * SKIP LOCKED). The Management API is a local stand-in (AWS is the one thing faked).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { startFakeManagementApi, type FakeManagementApi } from '../support/management-api';
import { newPatient, newProfessional } from '../support/scheduling-fixtures';

type Lib = {
  inApp: typeof import('../../lib/notifications/in-app');
  db: typeof import('../../lib/db/client');
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
};
let lib: Lib;
let api: FakeManagementApi;
let pg: Client;

beforeAll(async () => {
  api = await startFakeManagementApi();
  // Two deliveries at once must really run side by side: a pool that holds both transactions.
  process.env.DB_POOL_MAX = '4';
  jest.resetModules();
  lib = {
    inApp: await import('../../lib/notifications/in-app'),
    db: await import('../../lib/db/client'),
    closeAll: (await import('../../lib/lifecycle/close-all')).closeAll,
  };
  pg = new Client({ connectionString: TEST_DATABASE_URL });
  await pg.connect();
});

afterAll(async () => {
  await lib.closeAll();
  await pg.end();
  await api.close();
});

beforeEach(() => {
  api.calls.length = 0;
  api.gone.clear();
  api.failing.clear();
  api.delayMs = 0;
});

const HOUR = 3_600_000;

/** A clinic with two professionals, a patient and one appointment each, far apart in time. */
async function setup() {
  const clinic = await newClinic();
  const db = await lib.db.getDb();
  const [proA, proB] = [await newProfessional(clinic.clinicId), await newProfessional(clinic.clinicId)];
  const patient = await newPatient(clinic.clinicId);
  const key = await db.apiKey.findFirstOrThrow({ where: { clinicId: clinic.clinicId } });
  let slot = 0;
  const appointment = async (professionalId: string) => {
    const startsAt = new Date(Date.now() + (72 + 2 * slot++) * HOUR);
    const endsAt = new Date(startsAt.getTime() + 30 * 60_000);
    return db.appointment.create({
      data: { clinicId: clinic.clinicId, professionalId, patientId: patient.id, startsAt, endsAt, blockStartsAt: startsAt, blockEndsAt: endsAt },
    });
  };
  /** A notice as lib/notifications records it, created `ageMs` ago. */
  const notice = async (appointmentId: string | null, ageMs: number, channel: 'in_app' | 'email' = 'in_app') =>
    db.notification.create({
      data: {
        clinicId: clinic.clinicId,
        patientId: patient.id,
        appointmentId,
        kind: 'confirmation',
        channel,
        dedupeKey: `test:${randomUUID()}`,
        createdAt: new Date(Date.now() - ageMs),
      },
    });
  /** A socket row as $connect and subscribe leave it, pushing to the stand-in. */
  const socket = async (scope: string, apiKeyId = key.id) => {
    const connectionId = `c${randomUUID().slice(0, 12)}=`;
    await db.socketConnection.create({ data: { connectionId, clinicId: clinic.clinicId, apiKeyId, endpoint: api.endpoint, scope } });
    return { connectionId, endpoint: api.endpoint, clinicId: clinic.clinicId, scope };
  };
  return { clinicId: clinic.clinicId, db, proA, proB, keyId: key.id, appointment, notice, socket };
}

type NoticeRow = { status: string; attempts: number; skip_reason: string | null; last_error: string | null; sent_at: Date | null };
async function row(id: string): Promise<NoticeRow> {
  const { rows } = await pg.query<NoticeRow>('SELECT status, attempts, skip_reason, last_error, sent_at FROM notifications WHERE id = $1', [id]);
  return rows[0]!;
}
const pushedIds = (connectionId: string) => api.posted(connectionId).map((m) => m.notificationId);

describe('in-app notices pushed to a new subscriber', () => {
  it('sends the pending notices of its scope, oldest first, marks them sent, and skips the too old', async () => {
    const s = await setup();
    const [a1, a2, b1] = [await s.appointment(s.proA.id), await s.appointment(s.proA.id), await s.appointment(s.proB.id)];
    const older = await s.notice(a2.id, 3 * HOUR);
    const newer = await s.notice(a1.id, 1 * HOUR);
    const otherPro = await s.notice(b1.id, 2 * HOUR);
    const tooOld = await s.notice(a1.id, lib.inApp.IN_APP_MAX_AGE_MS + HOUR);
    const email = await s.notice(a1.id, 1 * HOUR, 'email');
    const otherClinic = await (await setup()).notice(null, HOUR);

    const mine = await s.socket(s.proA.id);
    expect(await lib.inApp.deliverBacklog(mine)).toEqual({ sent: 2, failed: 0, expired: 1 });
    expect(api.posted(mine.connectionId)).toEqual([
      { type: 'notification', notificationId: older.id, kind: 'confirmation', appointmentId: a2.id, controlId: null },
      { type: 'notification', notificationId: newer.id, kind: 'confirmation', appointmentId: a1.id, controlId: null },
    ]);
    for (const n of [older, newer]) expect(await row(n.id)).toMatchObject({ status: 'sent', attempts: 1, last_error: null, sent_at: expect.any(Date) });
    expect(await row(tooOld.id)).toMatchObject({ status: 'skipped', skip_reason: 'expired', attempts: 0 });
    expect(await row(otherPro.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await row(email.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await row(otherClinic.id)).toMatchObject({ status: 'pending' });

    // A socket for the whole clinic gets what nobody received: the other professional's notice only.
    const whole = await s.socket('clinic');
    expect(await lib.inApp.deliverBacklog(whole)).toMatchObject({ sent: 1 });
    expect(pushedIds(whole.connectionId)).toEqual([otherPro.id]);
    // Nothing is sent twice.
    expect(await lib.inApp.deliverBacklog(whole)).toEqual({ sent: 0, failed: 0, expired: 0 });
    expect(await lib.inApp.deliverBacklog(mine)).toEqual({ sent: 0, failed: 0, expired: 0 });
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(3);
  });

  it('sends at most the backlog bound at once', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const limit = lib.inApp.IN_APP_BACKLOG_LIMIT;
    const notices = [];
    for (let i = 0; i < limit + 3; i++) notices.push(await s.notice(a.id, HOUR - i * 1_000));
    const whole = await s.socket('clinic');
    expect(await lib.inApp.deliverBacklog(whole)).toMatchObject({ sent: limit });
    expect(pushedIds(whole.connectionId)).toEqual(notices.slice(0, limit).map((n) => n.id));
    expect(await lib.inApp.deliverBacklog(whole)).toMatchObject({ sent: 3 });
  });

  it('records a failed push with its error and stops; a gone socket is forgotten; the next subscriber gets them', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const [n1, n2] = [await s.notice(a.id, 2 * HOUR), await s.notice(a.id, HOUR)];

    const failing = await s.socket('clinic');
    api.failing.add(failing.connectionId);
    expect(await lib.inApp.deliverBacklog(failing)).toEqual({ sent: 0, failed: 1, expired: 0 });
    expect(await row(n1.id)).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.any(String), sent_at: null });
    expect(await row(n2.id)).toMatchObject({ status: 'pending', attempts: 0 });

    const gone = await s.socket('clinic');
    api.gone.add(gone.connectionId);
    expect(await lib.inApp.deliverBacklog(gone)).toEqual({ sent: 0, failed: 1, expired: 0 });
    expect(await row(n1.id)).toMatchObject({ status: 'failed', attempts: 2, last_error: 'connection gone (410)' });
    expect(await s.db.socketConnection.findUnique({ where: { connectionId: gone.connectionId } })).toBeNull();

    const healthy = await s.socket('clinic');
    expect(await lib.inApp.deliverBacklog(healthy)).toMatchObject({ sent: 2 });
    expect(pushedIds(healthy.connectionId)).toEqual([n1.id, n2.id]);
    expect(await row(n1.id)).toMatchObject({ status: 'sent', attempts: 3, last_error: null });
    expect(await row(n2.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('never pushes one notice twice when two sockets subscribe at the same time', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const notices = [];
    for (let i = 0; i < 8; i++) notices.push(await s.notice(a.id, HOUR - i * 1_000));
    const [one, two] = [await s.socket('clinic'), await s.socket(s.proA.id)];
    api.delayMs = 100; // every push in flight for a while, so both deliveries overlap
    const outcomes = await Promise.all([lib.inApp.deliverBacklog(one), lib.inApp.deliverBacklog(two)]);
    const [got1, got2] = [pushedIds(one.connectionId), pushedIds(two.connectionId)];
    expect(got1.filter((id) => got2.includes(id))).toEqual([]);
    expect([...got1, ...got2].sort()).toEqual(notices.map((n) => n.id).sort());
    expect(outcomes[0].sent + outcomes[1].sent).toBe(notices.length);
    for (const n of notices) expect(await row(n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('leaves a notice another delivery holds to it, without waiting for it', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const [held, free] = [await s.notice(a.id, 2 * HOUR), await s.notice(a.id, HOUR)];
    const whole = await s.socket('clinic');
    await pg.query('BEGIN');
    try {
      await pg.query('SELECT id FROM notifications WHERE id = $1 FOR UPDATE', [held.id]);
      expect(await lib.inApp.deliverBacklog(whole)).toMatchObject({ sent: 1 });
      expect(pushedIds(whole.connectionId)).toEqual([free.id]);
    } finally {
      await pg.query('COMMIT');
    }
    expect(await row(held.id)).toMatchObject({ status: 'pending' });
    expect(await lib.inApp.deliverBacklog(whole)).toMatchObject({ sent: 1 });
    expect(pushedIds(whole.connectionId)).toEqual([free.id, held.id]);
  });
});

describe("in-app notices on an appointment's event", () => {
  it("pushes the appointment's notices to its professional's and the clinic's sockets, not to a revoked key's", async () => {
    const s = await setup();
    const [a, b] = [await s.appointment(s.proA.id), await s.appointment(s.proB.id)];
    const [na, nb] = [await s.notice(a.id, HOUR), await s.notice(b.id, HOUR)];
    const whole = await s.socket('clinic');
    const mine = await s.socket(s.proA.id);
    const others = await s.socket(s.proB.id);
    const revokedKey = await s.db.apiKey.create({ data: { clinicId: s.clinicId, name: 'old', prefix: randomUUID().slice(0, 12), keyHash: '0'.repeat(64), revokedAt: new Date() } });
    const revoked = await s.socket('clinic', revokedKey.id);

    expect(await lib.inApp.deliverAppointmentNotices(s.clinicId, a.id)).toEqual({ sent: 1, failed: 0, expired: 0 });
    expect(pushedIds(whole.connectionId)).toEqual([na.id]);
    expect(pushedIds(mine.connectionId)).toEqual([na.id]);
    expect(pushedIds(others.connectionId)).toEqual([]);
    expect(pushedIds(revoked.connectionId)).toEqual([]);
    expect(await row(na.id)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await row(nb.id)).toMatchObject({ status: 'pending' });
    // Sent once: the event again pushes nothing.
    expect(await lib.inApp.deliverAppointmentNotices(s.clinicId, a.id)).toMatchObject({ sent: 0 });
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
  });
});
