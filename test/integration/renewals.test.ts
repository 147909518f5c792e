import { DateTime } from 'luxon';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import { newPatient, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

const suite = useSuite({
  pg: true,
  obliterateQueues: true,
  modules: {
    renewal: () => import('../../lib/domain/session-packages/renewal'),
    renewalScan: () => import('../../lib/domain/session-packages/renewal-scan'),
    renewalWindow: () => import('../../lib/domain/session-packages/renewal-window'),
    controls: () => import('../../functions/http/controls'),
    db: () => import('../../lib/platform/db/client'),
    eventNotices: () => import('../../lib/domain/notifications/event-notices'),
    notificationSend: () => import('../../lib/jobs/processors/notification-send'),
    inApp: () => import('../../lib/domain/notifications/in-app-backlog'),
    registry: () => import('../../lib/jobs/registry'),
    workerSchedulers: () => import('../../worker/schedulers'),
    queues: () => import('../../lib/platform/queues/queues'),
  },
});
const { renewal, renewalScan, renewalWindow, controls, db, eventNotices, notificationSend, inApp, registry, workerSchedulers, queues } = suite.m;

const DAY = 86_400_000;
const days = (n: number) => new Date(Date.now() + n * DAY);

/**
 * Clinics of this file live in zones without DST that other test files do not use, so a pass for
 * them (which scans every clinic at that local hour) leaves other files' clinics alone.
 */
const ZONE = 'Asia/Kathmandu'; // +05:45
const OTHER_ZONE = 'Atlantic/Cape_Verde'; // -01:00
/** Today's hh:15 in `zone`: the instant of that zone's pass for local hour `hour` (default 3, the setting's default). */
const passAt = (zone: string, hour = 3) => DateTime.now().setZone(zone).set({ hour, minute: 15, second: 0, millisecond: 0 }).toJSDate();
/** The daily pass of `zone`'s clinics. */
const scan = (zone = ZONE) => renewalScan.scanRenewals({ now: passAt(zone) });

/** A package written straight to the table (the create route refuses past dates and fixed statuses). */
async function newControl(
  clinicId: string,
  data: { renewalPolicy: 'manual' | 'automatic'; status?: string; sessionsTotal?: number; sessionsUsed?: number; validFrom?: Date; validUntil: Date; professionalId?: string },
) {
  const prisma = await db.getDb();
  const patient = await newPatient(clinicId);
  const total = data.sessionsTotal ?? 4;
  return prisma.appointmentControl.create({
    data: {
      clinicId,
      patientId: patient.id,
      professionalId: data.professionalId ?? null,
      specialty: 'cardiology',
      sessionsTotal: total,
      sessionsUsed: data.sessionsUsed ?? (data.status === 'exhausted' ? total : 0),
      status: data.status ?? 'active',
      renewalPolicy: data.renewalPolicy,
      validFrom: data.validFrom ?? days(-10),
      validUntil: data.validUntil,
    },
  });
}

async function successorsOf(id: string) {
  const { rows } = await suite.pg.query('SELECT * FROM appointment_controls WHERE previous_control_id = $1', [id]);
  return rows;
}
async function statusOf(id: string) {
  return (await suite.pg.query<{ status: string }>('SELECT status FROM appointment_controls WHERE id = $1', [id])).rows[0]!.status;
}
async function eventsOf(clinicId: string, type: string) {
  return (await suite.pg.query<{ aggregate_id: string; payload: Record<string, unknown> }>('SELECT aggregate_id, payload FROM outbox_events WHERE clinic_id = $1 AND type = $2', [clinicId, type])).rows;
}

describe('renewals', () => {
  it('renews an exhausted automatic package once: same quota, next period, linked, old marked renewed', async () => {
    const { clinicId } = await newClinic(ZONE);
    const pro = await newProfessional(clinicId);
    const old = await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', sessionsTotal: 6, validFrom: days(-10), validUntil: days(20), professionalId: pro.id });

    await scan();
    await scan(); // a second run changes nothing

    const next = await successorsOf(old.id);
    expect(next).toHaveLength(1);
    const s = next[0]!;
    expect(s).toMatchObject({
      clinic_id: clinicId,
      patient_id: old.patientId,
      professional_id: pro.id,
      specialty: 'cardiology',
      sessions_total: 6,
      sessions_used: 0,
      status: 'active',
      renewal_policy: 'automatic',
    });
    // Starts where the old one ends and lasts as long (30 days).
    expect(s.valid_from.getTime()).toBe(old.validUntil.getTime());
    expect(s.valid_until.getTime() - s.valid_from.getTime()).toBe(old.validUntil.getTime() - old.validFrom.getTime());
    expect(await statusOf(old.id)).toBe('renewed');
    const events = await eventsOf(clinicId, 'control.renewed');
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ controlId: s.id, previousControlId: old.id, sessionsTotal: 6, by: 'scan' });
  });

  it('starts the next period now when the old one already ended', async () => {
    const { clinicId } = await newClinic();
    const old = await newControl(clinicId, { renewalPolicy: 'automatic', validFrom: days(-12), validUntil: days(-2) });
    const before = Date.now();
    const r = await renewal.renewControl(clinicId, old.id, { by: 'manual' });
    expect(r.created).toBe(true);
    expect(new Date(r.control.validFrom).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(new Date(r.control.validUntil).getTime() - new Date(r.control.validFrom).getTime()).toBe(10 * DAY);
  });

  it('renews once when five callers race (row lock; unique link as the last line)', async () => {
    const { clinicId } = await newClinic();
    const old = await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(5) });
    const results = await Promise.all(Array.from({ length: 5 }, () => renewal.renewControl(clinicId, old.id, { by: 'manual' })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.control.id)).size).toBe(1);
    expect(await successorsOf(old.id)).toHaveLength(1);
    expect(await eventsOf(clinicId, 'control.renewed')).toHaveLength(1);
  });

  it('renews once when two scans run at once (in one process; test/e2e/renewal-race.test.ts races two workers)', async () => {
    const { clinicId } = await newClinic(ZONE);
    const exhausted = await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(15) });
    const expiring = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: days(3) });
    const later = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: days(40) });
    await Promise.all([scan(), scan()]);
    expect(await successorsOf(exhausted.id)).toHaveLength(1);
    expect(await successorsOf(expiring.id)).toHaveLength(1);
    expect(await successorsOf(later.id)).toHaveLength(0);
    expect(await eventsOf(clinicId, 'control.renewed')).toHaveLength(2);
    // The successor of the expiring one starts in the future: the next scan leaves it alone.
    await scan();
    const [succ] = await successorsOf(expiring.id);
    expect(await successorsOf(succ.id)).toHaveLength(0);
  });

  it('opens exactly one renewal request for a manual package and creates no successor', async () => {
    const { clinicId } = await newClinic(ZONE);
    const exhausted = await newControl(clinicId, { renewalPolicy: 'manual', status: 'exhausted', validUntil: days(15) });
    const expiring = await newControl(clinicId, { renewalPolicy: 'manual', validUntil: days(2) });
    await Promise.all([scan(), scan()]);
    await scan();

    const { rows } = await suite.pg.query<{ control_id: string; status: string; reason: string }>(
      'SELECT control_id, status, reason FROM renewal_requests WHERE clinic_id = $1 ORDER BY reason',
      [clinicId],
    );
    expect(rows).toEqual([
      { control_id: exhausted.id, status: 'pending', reason: 'exhausted' },
      { control_id: expiring.id, status: 'pending', reason: 'expiring' },
    ]);
    expect(await successorsOf(exhausted.id)).toHaveLength(0);
    expect(await successorsOf(expiring.id)).toHaveLength(0);
    expect(await statusOf(exhausted.id)).toBe('exhausted');
    const events = await eventsOf(clinicId, 'control.renewal_requested');
    expect(events.map((e) => e.aggregate_id).sort()).toEqual([exhausted.id, expiring.id].sort());
    expect(JSON.stringify(events)).not.toContain('Paciente'); // ids only

    // Renewing by hand fulfils the request.
    await renewal.renewControl(clinicId, exhausted.id, { by: 'manual' });
    const req = await suite.pg.query('SELECT status, resolved_at FROM renewal_requests WHERE control_id = $1', [exhausted.id]);
    expect(req.rows[0].status).toBe('fulfilled');
    expect(req.rows[0].resolved_at).toBeInstanceOf(Date);
  });

  it('compares local dates in the clinic zone: "within N days" ends at local midnight after today + N', async () => {
    // 2026-03-10T02:30Z is still 2026-03-09 in São Paulo (-03:00), already 2026-03-10 in Tokyo.
    const now = new Date('2026-03-10T02:30:00Z');
    expect(renewalWindow.renewalHorizon(now, 'America/Sao_Paulo', 7).toISOString()).toBe('2026-03-17T03:00:00.000Z');
    expect(renewalWindow.renewalHorizon(now, 'Asia/Tokyo', 7).toISOString()).toBe('2026-03-17T15:00:00.000Z');
    expect(renewalWindow.renewalHorizon(now, 'Not/AZone', 7).toISOString()).toBe('2026-03-17T03:00:00.000Z');

    const { clinicId } = await newClinic(ZONE);
    const today = DateTime.now().setZone(ZONE).startOf('day');
    const lastDay = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: today.plus({ days: 7 }).endOf('day').toJSDate() });
    const dayAfter = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: today.plus({ days: 8, minutes: 1 }).toJSDate() });
    await scan();
    expect(await successorsOf(lastDay.id)).toHaveLength(1);
    expect(await successorsOf(dayAfter.id)).toHaveLength(0);
  });

  it('an hourly pass scans only the clinics whose own local hour is the configured one', async () => {
    const here = await newClinic(ZONE);
    const there = await newClinic(OTHER_ZONE);
    const mine = await newControl(here.clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(20) });
    const theirs = await newControl(there.clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(20) });

    // 02:15 and 04:15 in ZONE: not its hour; 03:15 in ZONE is 20:30 in OTHER_ZONE.
    await renewalScan.scanRenewals({ now: passAt(ZONE, 2) });
    await renewalScan.scanRenewals({ now: passAt(ZONE, 4) });
    expect(await successorsOf(mine.id)).toHaveLength(0);
    const pass = await scan(ZONE);
    expect(pass.localHour).toBe(3);
    expect(await successorsOf(mine.id)).toHaveLength(1);
    expect(await successorsOf(theirs.id)).toHaveLength(0);

    await scan(OTHER_ZONE);
    expect(await successorsOf(theirs.id)).toHaveLength(1);
    // Another hour when asked for it (the scheduler stamps RENEWAL_SCAN_LOCAL_HOUR on the job).
    const late = await newControl(here.clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(20) });
    await renewalScan.scanRenewals({ now: passAt(ZONE, 22), localHour: 22 });
    expect(await successorsOf(late.id)).toHaveLength(1);
    await expect(renewalScan.scanRenewals({ localHour: 24 })).rejects.toThrow('not 0-23');

    // Which zones are due; an invalid stored zone counts as the product's default.
    const at = new Date('2026-03-10T06:15:00Z'); // 03:15 in São Paulo, 15:15 in Tokyo, 12:00 in Kathmandu
    expect(renewalWindow.zonesAtLocalHour(['America/Sao_Paulo', 'Asia/Tokyo', 'Not/AZone', ZONE], at, 3)).toEqual(['America/Sao_Paulo', 'Not/AZone']);
    expect(renewalWindow.zonesAtLocalHour(['America/Sao_Paulo', 'Asia/Tokyo', ZONE], at, 12)).toEqual([ZONE]);
  });

  it('leaves packages that ended (or ran out) before the lookback alone and stores them expired', async () => {
    const { clinicId } = await newClinic(ZONE);
    const now = passAt(ZONE);
    // RENEWAL_LOOKBACK_DAYS = 30: the window starts at local midnight 30 days before today.
    const since = DateTime.fromJSDate(now).setZone(ZONE).startOf('day').minus({ days: 30 });
    const at = (d: DateTime) => d.toJSDate();
    const c = {
      autoLongAgo: await newControl(clinicId, { renewalPolicy: 'automatic', validFrom: at(since.minus({ days: 400 })), validUntil: at(since.minus({ days: 370 })) }),
      autoJustBefore: await newControl(clinicId, { renewalPolicy: 'automatic', validFrom: at(since.minus({ days: 10 })), validUntil: at(since.minus({ milliseconds: 1 })) }),
      autoFirstDay: await newControl(clinicId, { renewalPolicy: 'automatic', validFrom: at(since.minus({ days: 10 })), validUntil: at(since) }),
      manualLongAgo: await newControl(clinicId, { renewalPolicy: 'manual', validFrom: at(since.minus({ days: 100 })), validUntil: at(since.minus({ days: 60 })) }),
      manualRecent: await newControl(clinicId, { renewalPolicy: 'manual', validFrom: days(-40), validUntil: days(-5) }),
      exhaustedEnded: await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validFrom: at(since.minus({ days: 90 })), validUntil: at(since.minus({ days: 1 })) }),
      exhaustedLongAgo: await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validFrom: days(-300), validUntil: days(60) }),
      exhaustedRecently: await newControl(clinicId, { renewalPolicy: 'manual', status: 'exhausted', validFrom: days(-300), validUntil: days(60) }),
    };
    // When they ran out (the booking that used the last session stamps updated_at).
    await suite.pg.query('UPDATE appointment_controls SET updated_at = $2 WHERE id = $1', [c.exhaustedLongAgo.id, at(since.minus({ days: 1 }))]);
    await suite.pg.query('UPDATE appointment_controls SET updated_at = $2 WHERE id = $1', [c.exhaustedRecently.id, at(since.plus({ days: 28 }))]);

    const result = await renewalScan.scanRenewals({ now });
    expect(result.expired).toBeGreaterThanOrEqual(4);
    await scan(); // a second pass changes nothing

    const outcome: Record<string, { status: string; successors: number }> = {};
    for (const [name, row] of Object.entries(c)) outcome[name] = { status: await statusOf(row.id), successors: (await successorsOf(row.id)).length };
    expect(outcome).toEqual({
      autoLongAgo: { status: 'expired', successors: 0 },
      autoJustBefore: { status: 'expired', successors: 0 },
      autoFirstDay: { status: 'renewed', successors: 1 },
      manualLongAgo: { status: 'expired', successors: 0 },
      manualRecent: { status: 'active', successors: 0 },
      exhaustedEnded: { status: 'expired', successors: 0 },
      exhaustedLongAgo: { status: 'exhausted', successors: 0 },
      exhaustedRecently: { status: 'exhausted', successors: 0 },
    });
    // An ended package's next period starts at the pass, not back when it ended.
    const [next] = await successorsOf(c.autoFirstDay.id);
    expect(next.valid_from.getTime()).toBe(now.getTime());
    const { rows } = await suite.pg.query<{ control_id: string; reason: string }>('SELECT control_id, reason FROM renewal_requests WHERE clinic_id = $1', [clinicId]);
    expect(rows.sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
      { control_id: c.exhaustedRecently.id, reason: 'exhausted' },
      { control_id: c.manualRecent.id, reason: 'expiring' },
    ]);
    expect(await eventsOf(clinicId, 'control.renewed')).toHaveLength(1);
    // Expired ones still renew by hand, from now.
    const byHand = await renewal.renewControl(clinicId, c.autoLongAgo.id, { by: 'manual' });
    expect(byHand.created).toBe(true);
  });

  it('dismisses the pending request of a package it stores expired, in the same step; its renewal notices are then skipped on both channels', async () => {
    const { clinicId } = await newClinic(ZONE);
    const ignored = await newControl(clinicId, { renewalPolicy: 'manual', validFrom: days(-40), validUntil: days(-5) });

    // Ended 5 days ago: the pass asks for its renewal, and the request's notices are recorded.
    await scan();
    const { rows: [event] } = await suite.pg.query(
      `SELECT id::text, clinic_id::text AS "clinicId", type, aggregate_id::text AS "aggregateId", payload
         FROM outbox_events WHERE aggregate_id = $1 AND type = 'control.renewal_requested'`,
      [ignored.id],
    );
    const [emailId] = await eventNotices.notifyForEvent(event);
    const requests = () => suite.pg.query<{ control_id: string; status: string; resolved: boolean }>(
      'SELECT control_id, status, resolved_at IS NOT NULL AS resolved FROM renewal_requests WHERE clinic_id = $1 ORDER BY created_at', [clinicId]);
    expect((await requests()).rows).toEqual([{ control_id: ignored.id, status: 'pending', resolved: false }]);
    // Left behind by a pass before this rule: stored expired with its request still pending.
    const leftOpen = await newControl(clinicId, { renewalPolicy: 'manual', status: 'expired', validFrom: days(-200), validUntil: days(-100) });
    await suite.pg.query("INSERT INTO renewal_requests (clinic_id, control_id, reason) VALUES ($1, $2, 'expiring')", [clinicId, leftOpen.id]);

    // Nobody renewed it, and its end falls behind the lookback: the next pass expires it.
    await suite.pg.query("UPDATE appointment_controls SET valid_until = valid_until - interval '60 days' WHERE id = $1", [ignored.id]);
    const pass = await scan();
    expect(pass.expired).toBeGreaterThanOrEqual(1);
    expect(pass.dismissed).toBeGreaterThanOrEqual(2);
    expect(await statusOf(ignored.id)).toBe('expired');
    expect((await requests()).rows).toEqual([
      { control_id: ignored.id, status: 'dismissed', resolved: true },
      { control_id: leftOpen.id, status: 'dismissed', resolved: true },
    ]);

    // Neither the e-mail nor the in-app notice goes out: the request can no longer be acted on.
    const socket = { connectionId: 'renewals-test=', endpoint: 'http://127.0.0.1:9', clinicId, scope: 'clinic' };
    expect(await inApp.deliverBacklog(socket)).toEqual({ sent: 0, failed: 0, stale: 1 });
    const send = { queue: 'notification', name: 'notification.send', id: emailId!, data: { notificationId: emailId! }, attemptsMade: 0, mode: 'inline' } as const;
    expect(await notificationSend.processNotificationSend(send)).toMatchObject({ status: 'skipped', reason: 'control_expired' });
    const { rows: notices } = await suite.pg.query('SELECT channel, status, skip_reason FROM notifications WHERE control_id = $1 ORDER BY channel', [ignored.id]);
    expect(notices).toEqual([
      { channel: 'email', status: 'skipped', skip_reason: 'control_expired' },
      { channel: 'in_app', status: 'skipped', skip_reason: 'control_expired' },
    ]);
    // Still renewable by hand; the dismissed request stays as it was.
    expect((await renewal.renewControl(clinicId, ignored.id, { by: 'manual' })).created).toBe(true);
    expect((await requests()).rows[0]).toMatchObject({ control_id: ignored.id, status: 'dismissed' });
  });

  it("a late or retried scheduled pass (through the job registry) scans the clinics of its slot, not those of the hour it runs in", async () => {
    const { clinicId } = await newClinic(ZONE);
    const due = await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(20) });
    // Its slot was hh:15 of the previous local hour in ZONE (as 03:15 for a job running at 04:xx): it
    // runs 45 to 105 minutes late, always in the next local hour.
    const slot = DateTime.now().setZone(ZONE).startOf('hour').minus({ minutes: 45 });
    const job = { queue: 'renovacao', name: 'renewals.scan', id: `repeat:renewals-scan:${slot.toMillis()}`, data: { localHour: slot.hour }, attemptsMade: 1, mode: 'inline' } as const;

    // Run by the clock, the slot's clinics are not due any more.
    await registry.runJob(job);
    expect(await successorsOf(due.id)).toHaveLength(0);
    expect(await registry.runJob({ ...job, scheduledAt: slot.toMillis() })).toMatchObject({ localHour: slot.hour, clinics: expect.any(Number) });
    const [next] = await successorsOf(due.id);
    expect(next).toBeDefined();
  });

  it('POST /v1/controls/{id}/renew: 201 with the new package, 409 naming the successor, 404 for another clinic', async () => {
    const a = await newClinic();
    const b = await newClinic();
    const old = await newControl(a.clinicId, { renewalPolicy: 'manual', validUntil: days(20) });
    const req = (auth: { headers: Record<string, string> }) => ({ ...auth, pathParameters: { id: old.id } });

    const created = await post(controls.renew, `/v1/controls/${old.id}/renew`, undefined, req(a.auth));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ previousControlId: old.id, sessionsTotal: 4, sessionsUsed: 0, status: 'active', renewalPolicy: 'manual' });
    expect(created.headers.location).toBe(`/v1/controls/${created.body.id}`);

    const again = await post(controls.renew, `/v1/controls/${old.id}/renew`, undefined, req(a.auth));
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', details: { controlId: old.id, successorId: created.body.id } });

    const cross = await post(controls.renew, `/v1/controls/${old.id}/renew`, undefined, req(b.auth));
    expect(cross.status).toBe(404);
    const bad = await post(controls.renew, '/v1/controls/not-a-uuid/renew', undefined, { ...a.auth, pathParameters: { id: 'not-a-uuid' } });
    expect(bad.status).toBe(400);
    expect(await successorsOf(old.id)).toHaveLength(1);
  });

  it('registers the hourly renewal pass once on the renovacao queue, however often workers start', async () => {
    const { startSchedulers, RENEWAL_SCAN_SCHEDULER_ID } = workerSchedulers;
    const { getRenovacaoQueue, getAgendaQueue } = queues;
    await Promise.all([startSchedulers(), startSchedulers()]);
    await startSchedulers();
    const renovacao = await getRenovacaoQueue();
    const schedulers = await renovacao.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: RENEWAL_SCAN_SCHEDULER_ID, name: 'renewals.scan', pattern: '15 * * * *', tz: 'UTC', template: { data: { localHour: 3 } } });
    const agenda = await getAgendaQueue();
    expect((await agenda.getJobSchedulers()).map((s) => s.key)).not.toContain(RENEWAL_SCAN_SCHEDULER_ID);
    // The scheduled job is the one the registry runs on that queue.
    const delayed = await renovacao.getDelayed();
    expect(delayed.map((j) => [j.name, j.data])).toEqual([['renewals.scan', { localHour: 3 }]]);
    // Due at the next hh:15 UTC, within the hour.
    const due = delayed[0]!.timestamp + delayed[0]!.delay;
    expect(new Date(due).getUTCMinutes()).toBe(15);
    expect(due - Date.now()).toBeLessThanOrEqual(3_600_000);
  });
});
