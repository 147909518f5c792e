/**
 * In-app notices reach sockets reliably: a socket that subscribes gets the
 * clinic's notices nobody received yet that match its scope, oldest first, bounded, none older than
 * the maximum age (those are skipped); each notice is marked sent once its push succeeded, failed
 * with the error otherwise; two deliveries at once never push the same notice twice (row locks,
 * SKIP LOCKED); a notice no longer true (appointment cancelled or moved since) is skipped, never
 * pushed; a notice's sockets are pushed to at once, under one deadline, at most a capped number.
 * The Management API is a local stand-in (AWS is the one thing faked).
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { startFakeManagementApi, type FakeManagementApi } from '../support/management-api';
import { newPatient, newProfessional } from '../support/scheduling-fixtures';
import { newRevokedApiKey, newSocketRow } from '../support/socket-rows';
import { useSuite } from '../support/suite';

const suite = useSuite({
  // Two deliveries at once must really run side by side: a pool that holds both transactions.
  env: { DB_POOL_MAX: '4' },
  modules: {
    backlog: () => import('../../lib/domain/notifications/in-app-backlog'),
    live: () => import('../../lib/domain/notifications/in-app-live'),
    expiry: () => import('../../lib/domain/notifications/in-app-expiry'),
    db: () => import('../../lib/platform/db/client'),
  },
  pg: true,
});
const { backlog, live, expiry, db: dbClient } = suite.m;
let api: FakeManagementApi;

beforeAll(async () => {
  api = await startFakeManagementApi();
});
afterAll(() => api.close());

beforeEach(() => api.reset());

const HOUR = 3_600_000;

/** A clinic with two professionals, a patient and one appointment each, far apart in time. */
async function setup() {
  const clinic = await newClinic();
  const db = await dbClient.getDb();
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
  /** A notice as lib/domain/notifications records it, created `ageMs` ago (a confirmation without start time unless told). */
  const notice = async (
    appointmentId: string | null,
    ageMs: number,
    channel: 'in_app' | 'email' = 'in_app',
    extra: { kind?: string; startsAt?: Date; controlId?: string } = {},
  ) =>
    db.notification.create({
      data: {
        clinicId: clinic.clinicId,
        patientId: patient.id,
        appointmentId,
        kind: 'confirmation',
        channel,
        dedupeKey: `test:${randomUUID()}`,
        createdAt: new Date(Date.now() - ageMs),
        ...extra,
      },
    });
  /** A socket row as $connect and subscribe leave it, pushing to the stand-in. */
  const socket = async (scope: string, apiKeyId = key.id, connectedAt?: Date) => {
    const connectionId = await newSocketRow({ clinicId: clinic.clinicId, apiKeyId, endpoint: api.endpoint, scope, connectedAt });
    return { connectionId, endpoint: api.endpoint, clinicId: clinic.clinicId, scope };
  };
  /** Moves an appointment by `ms` (as a reschedule does, without its notices). */
  const move = (id: string, startsAt: Date, ms: number) => {
    const [from, to] = [new Date(startsAt.getTime() + ms), new Date(startsAt.getTime() + ms + 30 * 60_000)];
    return db.appointment.update({ where: { id }, data: { startsAt: from, endsAt: to, blockStartsAt: from, blockEndsAt: to } });
  };
  const cancel = (id: string) => db.appointment.update({ where: { id }, data: { status: 'cancelled' } });
  return { clinicId: clinic.clinicId, db, proA, proB, patientId: patient.id, keyId: key.id, appointment, notice, socket, move, cancel };
}

type NoticeRow = { status: string; attempts: number; skip_reason: string | null; last_error: string | null; sent_at: Date | null };
async function row(id: string): Promise<NoticeRow> {
  const { rows } = await suite.pg.query<NoticeRow>('SELECT status, attempts, skip_reason, last_error, sent_at FROM notifications WHERE id = $1', [id]);
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
    const tooOld = await s.notice(a1.id, expiry.IN_APP_MAX_AGE_MS + HOUR);
    const email = await s.notice(a1.id, 1 * HOUR, 'email');
    const otherClinic = await (await setup()).notice(null, HOUR);

    const mine = await s.socket(s.proA.id);
    expect(await backlog.deliverBacklog(mine)).toEqual({ sent: 2, failed: 0, stale: 0 });
    expect(api.posted(mine.connectionId)).toEqual([
      { type: 'notification', notificationId: older.id, kind: 'confirmation', appointmentId: a2.id, controlId: null },
      { type: 'notification', notificationId: newer.id, kind: 'confirmation', appointmentId: a1.id, controlId: null },
    ]);
    for (const n of [older, newer]) expect(await row(n.id)).toMatchObject({ status: 'sent', attempts: 1, last_error: null, sent_at: expect.any(Date) });
    // Never pushed; the socket sweep records its end.
    expect(await row(tooOld.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await expiry.expireInAppNotices()).toBeGreaterThanOrEqual(1);
    expect(await row(tooOld.id)).toMatchObject({ status: 'skipped', skip_reason: 'expired', attempts: 0 });
    expect(await row(otherPro.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await row(email.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await row(otherClinic.id)).toMatchObject({ status: 'pending' });

    // A socket for the whole clinic gets what nobody received: the other professional's notice only.
    const whole = await s.socket('clinic');
    expect(await backlog.deliverBacklog(whole)).toMatchObject({ sent: 1 });
    expect(pushedIds(whole.connectionId)).toEqual([otherPro.id]);
    // Nothing is sent twice.
    expect(await backlog.deliverBacklog(whole)).toEqual({ sent: 0, failed: 0, stale: 0 });
    expect(await backlog.deliverBacklog(mine)).toEqual({ sent: 0, failed: 0, stale: 0 });
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(3);
  });

  it('sends at most the backlog bound at once', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const limit = backlog.IN_APP_BACKLOG_LIMIT;
    const notices = [];
    for (let i = 0; i < limit + 3; i++) notices.push(await s.notice(a.id, HOUR - i * 1_000));
    const whole = await s.socket('clinic');
    expect(await backlog.deliverBacklog(whole)).toMatchObject({ sent: limit });
    expect(pushedIds(whole.connectionId)).toEqual(notices.slice(0, limit).map((n) => n.id));
    expect(await backlog.deliverBacklog(whole)).toMatchObject({ sent: 3 });
  });

  it('records a failed push with its error and stops; a gone socket is forgotten; the next subscriber gets them', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const [n1, n2] = [await s.notice(a.id, 2 * HOUR), await s.notice(a.id, HOUR)];

    const failing = await s.socket('clinic');
    api.failing.add(failing.connectionId);
    expect(await backlog.deliverBacklog(failing)).toEqual({ sent: 0, failed: 1, stale: 0 });
    expect(await row(n1.id)).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.any(String), sent_at: null });
    expect(await row(n2.id)).toMatchObject({ status: 'pending', attempts: 0 });

    const gone = await s.socket('clinic');
    api.gone.add(gone.connectionId);
    expect(await backlog.deliverBacklog(gone)).toEqual({ sent: 0, failed: 1, stale: 0 });
    expect(await row(n1.id)).toMatchObject({ status: 'failed', attempts: 2, last_error: 'connection gone (410)' });
    expect(await s.db.socketConnection.findUnique({ where: { connectionId: gone.connectionId } })).toBeNull();

    const healthy = await s.socket('clinic');
    expect(await backlog.deliverBacklog(healthy)).toMatchObject({ sent: 2 });
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
    const outcomes = await Promise.all([backlog.deliverBacklog(one), backlog.deliverBacklog(two)]);
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
    await suite.pg.query('BEGIN');
    try {
      await suite.pg.query('SELECT id FROM notifications WHERE id = $1 FOR UPDATE', [held.id]);
      expect(await backlog.deliverBacklog(whole)).toMatchObject({ sent: 1 });
      expect(pushedIds(whole.connectionId)).toEqual([free.id]);
    } finally {
      await suite.pg.query('COMMIT');
    }
    expect(await row(held.id)).toMatchObject({ status: 'pending' });
    expect(await backlog.deliverBacklog(whole)).toMatchObject({ sent: 1 });
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
    const revokedKey = await newRevokedApiKey(s.clinicId);
    const revoked = await s.socket('clinic', revokedKey.id);

    expect(await live.deliverAppointmentNotices(s.clinicId, a.id)).toEqual({ sent: 1, failed: 0, stale: 0 });
    expect(pushedIds(whole.connectionId)).toEqual([na.id]);
    expect(pushedIds(mine.connectionId)).toEqual([na.id]);
    expect(pushedIds(others.connectionId)).toEqual([]);
    expect(pushedIds(revoked.connectionId)).toEqual([]);
    expect(await row(na.id)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await row(nb.id)).toMatchObject({ status: 'pending' });
    // Sent once: the event again pushes nothing.
    expect(await live.deliverAppointmentNotices(s.clinicId, a.id)).toMatchObject({ sent: 0 });
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
  });
});

describe('in-app notices no longer true', () => {
  /**
   * One appointment each: `kept` (its reminder still true), `cancelled` (a reminder and a confirmation
   * made before the cancellation, and the cancellation notice), `moved` (a reminder for the old time,
   * and the reschedule notice for the new one).
   */
  async function staleSetup() {
    const s = await setup();
    const [kept, cancelled, moved] = [await s.appointment(s.proA.id), await s.appointment(s.proA.id), await s.appointment(s.proA.id)];
    const reminder = (a: { id: string; startsAt: Date }, ageMs: number) => s.notice(a.id, ageMs, 'in_app', { kind: 'reminder', startsAt: a.startsAt });
    const n = {
      kept: await reminder(kept, 6 * HOUR),
      cancelledReminder: await reminder(cancelled, 5 * HOUR),
      cancelledConfirmation: await s.notice(cancelled.id, 4 * HOUR, 'in_app', { startsAt: cancelled.startsAt }),
      movedReminder: await reminder(moved, 3 * HOUR),
    };
    await s.cancel(cancelled.id);
    const after = await s.move(moved.id, moved.startsAt, HOUR);
    const cancellation = await s.notice(cancelled.id, 2 * HOUR, 'in_app', { kind: 'cancellation', startsAt: cancelled.startsAt });
    const reschedule = await s.notice(moved.id, 1 * HOUR, 'in_app', { kind: 'reschedule', startsAt: after.startsAt });
    return { s, kept, cancelled, moved, n: { ...n, cancellation, reschedule } };
  }

  async function expectSkipped(n: Awaited<ReturnType<typeof staleSetup>>['n']) {
    for (const id of [n.cancelledReminder.id, n.cancelledConfirmation.id]) expect(await row(id)).toMatchObject({ status: 'skipped', skip_reason: 'not_active', attempts: 0, sent_at: null });
    expect(await row(n.movedReminder.id)).toMatchObject({ status: 'skipped', skip_reason: 'moved', attempts: 0, sent_at: null });
  }

  it('on a subscribe: skipped with the reason and never pushed; the cancellation and the reschedule still are', async () => {
    const { s, n } = await staleSetup();
    const whole = await s.socket('clinic');
    expect(await backlog.deliverBacklog(whole)).toEqual({ sent: 3, failed: 0, stale: 3 });
    expect(pushedIds(whole.connectionId)).toEqual([n.kept.id, n.cancellation.id, n.reschedule.id]);
    await expectSkipped(n);
    // Skipped for good: the next subscriber gets nothing either.
    const next = await s.socket(s.proA.id);
    expect(await backlog.deliverBacklog(next)).toEqual({ sent: 0, failed: 0, stale: 0 });
  });

  it("on the appointment's event: skipped with the reason and never pushed; the cancellation and the reschedule still are", async () => {
    const { s, cancelled, moved, n } = await staleSetup();
    const whole = await s.socket('clinic');
    expect(await live.deliverAppointmentNotices(s.clinicId, cancelled.id)).toEqual({ sent: 1, failed: 0, stale: 2 });
    expect(await live.deliverAppointmentNotices(s.clinicId, moved.id)).toEqual({ sent: 1, failed: 0, stale: 1 });
    expect(pushedIds(whole.connectionId)).toEqual([n.cancellation.id, n.reschedule.id]);
    await expectSkipped(n);
    expect(await row(n.kept.id)).toMatchObject({ status: 'pending' });
  });
});

describe("a notice's pushes", () => {
  /** From the first arrival to the last: pushes made one after another span a full delay (or deadline) each. */
  const spreadMs = (arrivals: number[]) => Math.max(...arrivals) - Math.min(...arrivals);

  it('go to all its sockets at once: every push is in flight before the first is answered', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const n = await s.notice(a.id, HOUR);
    const sockets = [];
    for (let i = 0; i < 12; i++) sockets.push(await s.socket(i % 2 ? 'clinic' : s.proA.id));
    api.delayMs = 1_000;
    const { result, arrivals } = await api.arrivalsDuring(() => live.deliverAppointmentNotices(s.clinicId, a.id));
    expect(result).toEqual({ sent: 1, failed: 0, stale: 0 });
    for (const socket of sockets) expect(pushedIds(socket.connectionId)).toEqual([n.id]);
    expect(arrivals).toHaveLength(sockets.length);
    expect(spreadMs(arrivals)).toBeLessThan(api.delayMs);
    expect(await row(n.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('share one deadline: a Management API that hangs fails the notice once, and the next delivery works', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const n = await s.notice(a.id, HOUR);
    const sockets = [await s.socket('clinic'), await s.socket('clinic'), await s.socket(s.proA.id)];
    api.delayMs = 3_000; // longer than the deadline (2 s)
    const { result, arrivals } = await api.arrivalsDuring(() => live.deliverAppointmentNotices(s.clinicId, a.id));
    expect(result).toEqual({ sent: 0, failed: 1, stale: 0 });
    // All made at once, before the deadline cut any of them off.
    expect(arrivals).toHaveLength(sockets.length);
    expect(spreadMs(arrivals)).toBeLessThan(2_000);
    expect(await row(n.id)).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.any(String) });
    api.delayMs = 0;
    expect(await live.deliverAppointmentNotices(s.clinicId, a.id)).toMatchObject({ sent: 1 });
    expect(await row(n.id)).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
  });

  it('reach at most the target cap, the longest-connected sockets first', async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    const n = await s.notice(a.id, HOUR);
    const cap = live.IN_APP_MAX_TARGETS;
    const t0 = Date.now() - HOUR;
    const sockets = [];
    for (let i = 0; i < cap + 2; i++) sockets.push(await s.socket('clinic', s.keyId, new Date(t0 + i * 1_000)));
    expect(await live.deliverAppointmentNotices(s.clinicId, a.id)).toMatchObject({ sent: 1 });
    expect(api.calls.filter((c) => c.method === 'POST').map((c) => c.connectionId).sort()).toEqual(
      sockets.slice(0, cap).map((c) => c.connectionId).sort(),
    );
    expect(await row(n.id)).toMatchObject({ status: 'sent' });
  });

  it("under the cap, the appointment's professional's own sockets come before clinic-wide ones", async () => {
    const s = await setup();
    const a = await s.appointment(s.proA.id);
    await s.notice(a.id, HOUR);
    const cap = live.IN_APP_MAX_TARGETS;
    const t0 = Date.now() - HOUR;
    for (let i = 0; i < cap; i++) await s.socket('clinic', s.keyId, new Date(t0 + i * 1_000));
    const mine = await s.socket(s.proA.id, s.keyId, new Date(t0 + cap * 1_000)); // the newest of all
    expect(await live.deliverAppointmentNotices(s.clinicId, a.id)).toMatchObject({ sent: 1 });
    const posted = api.calls.filter((c) => c.method === 'POST').map((c) => c.connectionId);
    expect(posted).toHaveLength(cap);
    expect(posted).toContain(mine.connectionId);
  });
});
