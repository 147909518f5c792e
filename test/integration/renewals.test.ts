import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import { newPatient, newProfessional } from '../support/scheduling-fixtures';

type Renewals = typeof import('../../lib/renewals/service');
let renewals: Renewals;
let controls: typeof import('../../functions/http/controls');
let getDb: typeof import('../../lib/db/client').getDb;
let pg: Client;

beforeAll(async () => {
  renewals = require('../../lib/renewals/service');
  controls = require('../../functions/http/controls');
  getDb = require('../../lib/db/client').getDb;
  pg = new Client({ connectionString: TEST_DATABASE_URL });
  await pg.connect();
});
afterAll(async () => {
  await pg.end();
  await require('../../lib/lifecycle/close-all').closeAll();
});

const DAY = 86_400_000;
const days = (n: number) => new Date(Date.now() + n * DAY);

/** A package written straight to the table (the create route refuses past dates and fixed statuses). */
async function newControl(
  clinicId: string,
  data: { renewalPolicy: 'manual' | 'automatic'; status?: string; sessionsTotal?: number; sessionsUsed?: number; validFrom?: Date; validUntil: Date; professionalId?: string },
) {
  const db = await getDb();
  const patient = await newPatient(clinicId);
  const total = data.sessionsTotal ?? 4;
  return db.appointmentControl.create({
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
  const { rows } = await pg.query('SELECT * FROM appointment_controls WHERE previous_control_id = $1', [id]);
  return rows;
}
async function statusOf(id: string) {
  return (await pg.query<{ status: string }>('SELECT status FROM appointment_controls WHERE id = $1', [id])).rows[0]!.status;
}
async function eventsOf(clinicId: string, type: string) {
  return (await pg.query<{ aggregate_id: string; payload: Record<string, unknown> }>('SELECT aggregate_id, payload FROM outbox_events WHERE clinic_id = $1 AND type = $2', [clinicId, type])).rows;
}

describe('renewals', () => {
  it('renews an exhausted automatic package once: same quota, next period, linked, old marked renewed', async () => {
    const { clinicId } = await newClinic();
    const pro = await newProfessional(clinicId);
    const old = await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', sessionsTotal: 6, validFrom: days(-10), validUntil: days(20), professionalId: pro.id });

    await renewals.scanRenewals();
    await renewals.scanRenewals(); // a second run changes nothing

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
    const r = await renewals.renewControl(clinicId, old.id, { by: 'manual' });
    expect(r.created).toBe(true);
    expect(new Date(r.control.validFrom).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(new Date(r.control.validUntil).getTime() - new Date(r.control.validFrom).getTime()).toBe(10 * DAY);
  });

  it('renews once when five callers race (row lock; unique link as the last line)', async () => {
    const { clinicId } = await newClinic();
    const old = await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(5) });
    const results = await Promise.all(Array.from({ length: 5 }, () => renewals.renewControl(clinicId, old.id, { by: 'manual' })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.control.id)).size).toBe(1);
    expect(await successorsOf(old.id)).toHaveLength(1);
    expect(await eventsOf(clinicId, 'control.renewed')).toHaveLength(1);
  });

  it('renews once when two scans run at once', async () => {
    const { clinicId } = await newClinic();
    const exhausted = await newControl(clinicId, { renewalPolicy: 'automatic', status: 'exhausted', validUntil: days(15) });
    const expiring = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: days(3) });
    const later = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: days(40) });
    await Promise.all([renewals.scanRenewals(), renewals.scanRenewals()]);
    expect(await successorsOf(exhausted.id)).toHaveLength(1);
    expect(await successorsOf(expiring.id)).toHaveLength(1);
    expect(await successorsOf(later.id)).toHaveLength(0);
    expect(await eventsOf(clinicId, 'control.renewed')).toHaveLength(2);
    // The successor of the expiring one starts in the future: the next scan leaves it alone.
    await renewals.scanRenewals();
    const [succ] = await successorsOf(expiring.id);
    expect(await successorsOf(succ.id)).toHaveLength(0);
  });

  it('opens exactly one renewal request for a manual package and creates no successor', async () => {
    const { clinicId } = await newClinic();
    const exhausted = await newControl(clinicId, { renewalPolicy: 'manual', status: 'exhausted', validUntil: days(15) });
    const expiring = await newControl(clinicId, { renewalPolicy: 'manual', validUntil: days(2) });
    await Promise.all([renewals.scanRenewals(), renewals.scanRenewals()]);
    await renewals.scanRenewals();

    const { rows } = await pg.query<{ control_id: string; status: string; reason: string }>(
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
    await renewals.renewControl(clinicId, exhausted.id, { by: 'manual' });
    const req = await pg.query('SELECT status, resolved_at FROM renewal_requests WHERE control_id = $1', [exhausted.id]);
    expect(req.rows[0].status).toBe('fulfilled');
    expect(req.rows[0].resolved_at).toBeInstanceOf(Date);
  });

  it('compares local dates in the clinic zone: "within N days" ends at local midnight after today + N', async () => {
    // 2026-03-10T02:30Z is still 2026-03-09 in São Paulo (-03:00), already 2026-03-10 in Tokyo.
    const now = new Date('2026-03-10T02:30:00Z');
    expect(renewals.renewalHorizon(now, 'America/Sao_Paulo', 7).toISOString()).toBe('2026-03-17T03:00:00.000Z');
    expect(renewals.renewalHorizon(now, 'Asia/Tokyo', 7).toISOString()).toBe('2026-03-17T15:00:00.000Z');
    expect(renewals.renewalHorizon(now, 'Not/AZone', 7).toISOString()).toBe('2026-03-17T03:00:00.000Z');

    const { clinicId } = await newClinic('Asia/Tokyo');
    const { DateTime } = await import('luxon');
    const today = DateTime.now().setZone('Asia/Tokyo').startOf('day');
    const lastDay = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: today.plus({ days: 7 }).endOf('day').toJSDate() });
    const dayAfter = await newControl(clinicId, { renewalPolicy: 'automatic', validUntil: today.plus({ days: 8, minutes: 1 }).toJSDate() });
    await renewals.scanRenewals();
    expect(await successorsOf(lastDay.id)).toHaveLength(1);
    expect(await successorsOf(dayAfter.id)).toHaveLength(0);
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

  it('registers the daily renewal scan once on the renovacao queue, however often workers start', async () => {
    const { startSchedulers, RENEWAL_SCAN_SCHEDULER_ID } = require('../../worker/schedulers') as typeof import('../../worker/schedulers');
    const { getRenovacaoQueue, getAgendaQueue } = require('../../lib/queues/queues') as typeof import('../../lib/queues/queues');
    await Promise.all([startSchedulers(), startSchedulers()]);
    await startSchedulers();
    const renovacao = await getRenovacaoQueue();
    const schedulers = await renovacao.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: RENEWAL_SCAN_SCHEDULER_ID, name: 'renewals.scan', pattern: '15 3 * * *', tz: 'America/Sao_Paulo' });
    const agenda = await getAgendaQueue();
    expect((await agenda.getJobSchedulers()).map((s) => s.key)).not.toContain(RENEWAL_SCAN_SCHEDULER_ID);
    // The scheduled job is the one the registry runs on that queue.
    const delayed = await renovacao.getDelayed();
    expect(delayed.map((j) => j.name)).toEqual(['renewals.scan']);
  });
});
