import { DateTime } from 'luxon';
import type { JobContext } from '../../lib/platform/queues/context';
import { newClinic } from '../support/clinic';
import { eventLib, processPublishedEvents } from '../support/domain-events';
import { get, invoke, post } from '../support/invoke';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

type Appts = typeof import('../../functions/http/appointments');

const suite = useSuite({
  modules: {
    appts: () => import('../../functions/http/appointments'),
    controls: () => import('../../functions/http/controls'),
    queues: () => import('../../lib/platform/queues/queues'),
    reminder: () => import('../../lib/jobs/processors/appointment-reminder'),
  },
  pg: true,
  obliterateQueues: true,
});
const { appts, controls, queues, reminder } = suite.m;

async function setup(opts: Parameters<typeof newProfessional>[1] = {}) {
  const c = await newClinic();
  const pro = await newProfessional(c.clinicId, opts);
  const patient = await newPatient(c.clinicId);
  return { ...c, pro, patient };
}

const action = (fn: Appts[keyof Appts], id: string, name: string, body: unknown, auth: { headers: Record<string, string> }) =>
  post(fn, `/v1/appointments/${id}/${name}`, body, { ...auth, pathParameters: { id } });
const getOne = (id: string, auth: { headers: Record<string, string> }) =>
  get(appts.get, `/v1/appointments/${id}`, { ...auth, pathParameters: { id } });
const getControl = (id: string, auth: { headers: Record<string, string> }) =>
  get(controls.get, `/v1/controls/${id}`, { ...auth, pathParameters: { id } });

describe('appointments', () => {
  it('books, lists, gets, confirms, reschedules (history kept) and completes', async () => {
    const s = await setup({ bufferAfterMinutes: 10 });
    const startsAt = localAt(3, 10);
    const res = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt, notes: 'first visit' }, s.auth);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      professionalId: s.pro.id,
      patientId: s.patient.id,
      startsAt: new Date(startsAt).toISOString(),
      durationMinutes: 30,
      status: 'scheduled',
    });
    expect(new Date(res.body.blockEndsAt).getTime() - new Date(res.body.endsAt).getTime()).toBe(10 * 60_000);
    expect(res.headers.location).toBe(`/v1/appointments/${res.body.id}`);
    const id = res.body.id as string;

    const list = await get(appts.list, `/v1/appointments?professionalId=${s.pro.id}`, s.auth);
    expect(list.status).toBe(200);
    expect(list.body.data.map((a: { id: string }) => a.id)).toEqual([id]);

    expect((await action(appts.confirm, id, 'confirm', undefined, s.auth)).body.status).toBe('confirmed');

    const newStart = localAt(4, 15, 30);
    const moved = await action(appts.reschedule, id, 'reschedule', { startsAt: newStart, durationMinutes: 45 }, s.auth);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ startsAt: new Date(newStart).toISOString(), durationMinutes: 45, status: 'scheduled' });

    const one = await getOne(id, s.auth);
    expect(one.body.history.map((h: { action: string }) => h.action)).toEqual(['created', 'confirmed', 'rescheduled']);
    expect(one.body.history[2]).toMatchObject({ fromStatus: 'confirmed', toStatus: 'scheduled', previousStartsAt: new Date(startsAt).toISOString() });

    expect((await action(appts.complete, id, 'complete', undefined, s.auth)).body.status).toBe('completed');
    const { rows } = await suite.pg.query('SELECT type FROM outbox_events WHERE aggregate_id = $1 ORDER BY created_at', [id]);
    expect(rows.map((r) => r.type)).toEqual(['appointment.created', 'appointment.confirmed', 'appointment.rescheduled', 'appointment.completed']);
  });

  it('answers 409 slot_taken on an overlap, buffers included, and on a reschedule into a taken slot', async () => {
    const s = await setup({ bufferBeforeMinutes: 15, bufferAfterMinutes: 15 });
    const first = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 10) }, s.auth);
    expect(first.status).toBe(201);
    // 10:30-11:00 does not overlap 10:00-10:30, but the buffers (10:15 after, 15 before) do.
    const clash = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 10, 30) }, s.auth);
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatchObject({ code: 'conflict', details: { reason: 'slot_taken' } });
    expect(clash.body.error.message).toEqual(expect.any(String)); // wording is localized (Accept-Language)
    // With both buffers clear (10:00-10:30 +15 ends 10:45; 11:00 -15 starts 10:45): free.
    const ok = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 11) }, s.auth);
    expect(ok.status).toBe(201);
    const moved = await action(appts.reschedule, ok.body.id, 'reschedule', { startsAt: localAt(3, 10, 15) }, s.auth);
    expect(moved.status).toBe(409);
    expect(moved.body.error.details).toEqual({ reason: 'slot_taken' });
    // A cancelled appointment frees its range.
    expect((await action(appts.cancel, first.body.id, 'cancel', { reason: 'patient asked' }, s.auth)).status).toBe(200);
    expect((await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 10) }, s.auth)).status).toBe(201);
  });

  it('answers 422 outside working hours, in the past, and on invalid transitions', async () => {
    const s = await setup();
    const late = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 19, 45) }, s.auth);
    expect(late.status).toBe(422);
    expect(late.body.error).toMatchObject({ code: 'rule_violated', details: { rule: 'outside_working_hours' } });
    const past = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(-1, 10) }, s.auth);
    expect(past.body.error.details.rule).toBe('starts_in_past');

    const a = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 9) }, s.auth);
    expect((await action(appts.cancel, a.body.id, 'cancel', { reason: 'x' }, s.auth)).status).toBe(200);
    for (const [fn, name] of [[appts.complete, 'complete'], [appts.confirm, 'confirm'], [appts.noShow, 'no-show']] as const) {
      const res = await action(fn, a.body.id, name, undefined, s.auth);
      expect(res.status).toBe(422);
      expect(res.body.error.details).toMatchObject({ rule: 'invalid_transition', from: 'cancelled' });
    }
    const again = await action(appts.cancel, a.body.id, 'cancel', { reason: 'x' }, s.auth);
    expect(again.body.error.details.rule).toBe('invalid_transition');
    const resched = await action(appts.reschedule, a.body.id, 'reschedule', { startsAt: localAt(3, 12) }, s.auth);
    expect(resched.body.error.details.rule).toBe('invalid_transition');

    const b = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 11) }, s.auth);
    expect((await action(appts.noShow, b.body.id, 'no-show', undefined, s.auth)).body.status).toBe('no_show');
    expect((await action(appts.complete, b.body.id, 'complete', undefined, s.auth)).status).toBe(422);
  });

  it('answers 400 for bad input', async () => {
    const s = await setup();
    const noOffset = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: '2030-03-10T10:00:00' }, s.auth);
    expect(noOffset.status).toBe(400);
    expect(noOffset.body.error.details[0].field).toBe('startsAt');
    const impossible = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: '2030-02-30T10:00:00-03:00' }, s.auth);
    expect(impossible.status).toBe(400);
    const badCursor = await get(appts.list, '/v1/appointments?cursor=nope', s.auth);
    expect(badCursor.status).toBe(400);
  });

  it('consumes a control session, refuses an exhausted or expired one (422), and cancel gives the session back', async () => {
    const s = await setup();
    const ctl = await post(controls.create, '/v1/controls', { patientId: s.patient.id, sessionsTotal: 1, validUntil: localAt(10, 12) }, s.auth);
    expect(ctl.status).toBe(201);
    const a = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 9), controlId: ctl.body.id }, s.auth);
    expect(a.status).toBe(201);
    expect(a.body.controlId).toBe(ctl.body.id);
    expect((await getControl(ctl.body.id, s.auth)).body).toMatchObject({ sessionsUsed: 1, sessionsRemaining: 0, status: 'exhausted' });
    const { rows } = await suite.pg.query('SELECT type FROM outbox_events WHERE aggregate_id = $1 ORDER BY created_at, type', [ctl.body.id]);
    expect(rows.map((r) => r.type).sort()).toEqual(['control.consumed', 'control.created', 'control.exhausted']);

    const exhausted = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, 11), controlId: ctl.body.id }, s.auth);
    expect(exhausted.status).toBe(422);
    expect(exhausted.body.error.details.rule).toBe('control_exhausted');
    // Nothing of the refused booking was written.
    const count = await suite.pg.query('SELECT count(*)::int AS n FROM appointments WHERE professional_id = $1', [s.pro.id]);
    expect(count.rows[0].n).toBe(1);

    expect((await action(appts.cancel, a.body.id, 'cancel', { reason: 'sick' }, s.auth)).body).toMatchObject({ status: 'cancelled', cancelReason: 'sick' });
    expect((await getControl(ctl.body.id, s.auth)).body).toMatchObject({ sessionsUsed: 0, sessionsRemaining: 1, status: 'active' });

    // Valid until day 10: a booking on day 12 is after the expiry.
    const expired = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(12, 9), controlId: ctl.body.id }, s.auth);
    expect(expired.status).toBe(422);
    expect(expired.body.error.details.rule).toBe('control_expired');

    // Another patient's control.
    const other = await newPatient(s.clinicId);
    const mismatch = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: other.id, startsAt: localAt(3, 13), controlId: ctl.body.id }, s.auth);
    expect(mismatch.body.error.details.rule).toBe('control_patient_mismatch');
  });

  it('never overspends a control under concurrent bookings', async () => {
    const s = await setup();
    const ctl = await post(controls.create, '/v1/controls', { patientId: s.patient.id, sessionsTotal: 3, validUntil: localAt(20, 12).slice(0, 10) }, s.auth);
    const results = await Promise.all(
      [8, 9, 10, 11, 12, 13, 14, 15].map((h) =>
        post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, h), controlId: ctl.body.id }, s.auth),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 201)).toHaveLength(3);
    expect(statuses.filter((x) => x === 422)).toHaveLength(5);
    expect((await getControl(ctl.body.id, s.auth)).body).toMatchObject({ sessionsUsed: 3, sessionsRemaining: 0 });
  });

  it('creates reminders with deterministic ids and delays, moves them on reschedule, removes them on cancel (from the events, in the worker)', async () => {
    const s = await setup();
    const queue = await queues.getAgendaQueue();
    const startsAt = localAt(3, 10);
    const before = Date.now();
    const a = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt }, s.auth);
    expect(a.status).toBe(201);
    const id = a.body.id as string;
    // The request only publishes the event; the reminders come from processing it.
    expect(await queue.getJob(`reminder:${id}:1440`)).toBeUndefined();
    expect(await processPublishedEvents(eventLib(), id)).toHaveLength(1);
    for (const offset of [1440, 120]) {
      const job = await queue.getJob(`reminder:${id}:${offset}`);
      expect(job).toBeDefined();
      expect(job!.name).toBe('appointment.reminder');
      expect(job!.data).toEqual({ appointmentId: id, offsetMinutes: offset, startsAt: new Date(startsAt).toISOString() });
      const fireAt = new Date(startsAt).getTime() - offset * 60_000;
      expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(fireAt - 5_000);
      expect(job!.timestamp + job!.delay).toBeLessThanOrEqual(fireAt + 5_000);
      expect(await job!.getState()).toBe('delayed');
      expect(job!.timestamp).toBeGreaterThanOrEqual(before - 1_000);
    }

    const newStart = localAt(5, 14);
    expect((await action(appts.reschedule, id, 'reschedule', { startsAt: newStart }, s.auth)).status).toBe(200);
    expect((await queue.getJob(`reminder:${id}:120`))!.data.startsAt).toBe(new Date(startsAt).toISOString()); // not moved yet
    await processPublishedEvents(eventLib(), id);
    for (const offset of [1440, 120]) {
      const job = await queue.getJob(`reminder:${id}:${offset}`);
      expect(job!.data.startsAt).toBe(new Date(newStart).toISOString());
      expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(new Date(newStart).getTime() - offset * 60_000 - 5_000);
      expect(job!.timestamp + job!.delay).toBeLessThanOrEqual(new Date(newStart).getTime() - offset * 60_000 + 5_000);
    }

    expect((await action(appts.cancel, id, 'cancel', { reason: 'x' }, s.auth)).status).toBe(200);
    await processPublishedEvents(eventLib(), id);
    expect(await queue.getJob(`reminder:${id}:1440`)).toBeUndefined();
    expect(await queue.getJob(`reminder:${id}:120`)).toBeUndefined();
  });

  it('skips offsets already past, and the reminder processor re-checks the appointment', async () => {
    const s = await setup();
    const queue = await queues.getAgendaQueue();
    // Tomorrow-ish: within 24 h only the 2 h reminder is still ahead.
    const soon = new Date(Date.now() + 5 * 3600_000);
    const local = DateTime.fromJSDate(soon).setZone('America/Sao_Paulo');
    if (local.hour < 8 || local.hour >= 19) return; // outside the fixture's working hours at this time of day
    const startsAt = local.set({ second: 0, millisecond: 0 }).toISO();
    const a = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt }, s.auth);
    expect(a.status).toBe(201);
    await processPublishedEvents(eventLib(), a.body.id);
    expect(await queue.getJob(`reminder:${a.body.id}:1440`)).toBeUndefined();
    expect(await queue.getJob(`reminder:${a.body.id}:120`)).toBeDefined();
  });

  it('reminder processor: due when current, skipped when moved, cancelled or missing', async () => {
    const { processReminder } = reminder;
    const s = await setup();
    const startsAt = localAt(3, 10);
    const a = await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt }, s.auth);
    const job = (data: JobContext<'agenda', 'appointment.reminder'>['data']): JobContext<'agenda', 'appointment.reminder'> => ({ queue: 'agenda', name: 'appointment.reminder', id: 'x', attemptsMade: 0, mode: 'inline', data });
    const iso = new Date(startsAt).toISOString();
    expect(await processReminder(job({ appointmentId: a.body.id, offsetMinutes: 120, startsAt: iso }))).toMatchObject({ due: true });
    expect(await processReminder(job({ appointmentId: a.body.id, offsetMinutes: 120, startsAt: new Date(Date.now() + 1e9).toISOString() }))).toMatchObject({ skipped: 'moved' });
    await action(appts.cancel, a.body.id, 'cancel', { reason: 'x' }, s.auth);
    expect(await processReminder(job({ appointmentId: a.body.id, offsetMinutes: 120, startsAt: iso }))).toMatchObject({ skipped: 'not_active' });
    expect(await processReminder(job({ appointmentId: '00000000-0000-4000-8000-000000000000', offsetMinutes: 120, startsAt: iso }))).toMatchObject({ skipped: 'appointment_missing' });
  });

  it("answers 404 for another clinic's ids on every route", async () => {
    const a = await setup();
    const b = await setup();
    const booked = await post(appts.create, '/v1/appointments', { professionalId: b.pro.id, patientId: b.patient.id, startsAt: localAt(3, 10) }, b.auth);
    const id = booked.body.id;
    expect((await post(appts.create, '/v1/appointments', { professionalId: b.pro.id, patientId: a.patient.id, startsAt: localAt(3, 12) }, a.auth)).status).toBe(404);
    expect((await post(appts.create, '/v1/appointments', { professionalId: a.pro.id, patientId: b.patient.id, startsAt: localAt(3, 12) }, a.auth)).status).toBe(404);
    expect((await getOne(id, a.auth)).status).toBe(404);
    for (const [fn, name, body] of [
      [appts.confirm, 'confirm', undefined],
      [appts.complete, 'complete', undefined],
      [appts.noShow, 'no-show', undefined],
      [appts.cancel, 'cancel', { reason: 'x' }],
      [appts.reschedule, 'reschedule', { startsAt: localAt(3, 12) }],
    ] as const) {
      const res = await action(fn, id, name, body, a.auth);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(b.patient.id);
    }
    const list = await get(appts.list, `/v1/appointments?professionalId=${b.pro.id}`, a.auth);
    expect(list.body.data).toEqual([]);
    expect((await getOne(id, b.auth)).body.status).toBe('scheduled'); // untouched
    const ctl = await post(controls.create, '/v1/controls', { patientId: b.patient.id, sessionsTotal: 2, validUntil: localAt(10, 12) }, b.auth);
    const useOther = await post(appts.create, '/v1/appointments', { professionalId: a.pro.id, patientId: a.patient.id, startsAt: localAt(3, 12), controlId: ctl.body.id }, a.auth);
    expect(useOther.status).toBe(404);
    expect((await getControl(ctl.body.id, a.auth)).status).toBe(404);
  });

  it('paginates with a cursor', async () => {
    const s = await setup();
    for (const h of [9, 10, 11, 12, 13]) {
      expect((await post(appts.create, '/v1/appointments', { professionalId: s.pro.id, patientId: s.patient.id, startsAt: localAt(3, h) }, s.auth)).status).toBe(201);
    }
    await action(appts.cancel, (await get(appts.list, `/v1/appointments?professionalId=${s.pro.id}&limit=1`, s.auth)).body.data[0].id, 'cancel', { reason: 'x' }, s.auth);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await get(appts.list, `/v1/appointments?patientId=${s.patient.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, s.auth);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((a: { startsAt: string }) => a.startsAt));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual(seen);
    const scheduled = await get(appts.list, `/v1/appointments?patientId=${s.patient.id}&status=scheduled&from=${encodeURIComponent(localAt(3, 10))}&to=${encodeURIComponent(localAt(3, 13))}`, s.auth);
    expect(scheduled.body.data).toHaveLength(3);
  });
});
void invoke;
