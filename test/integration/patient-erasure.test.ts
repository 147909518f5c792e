/**
 * Anonymising and blocking a patient (LGPD art. 18), through the patients function's real handler,
 * the real database and Redis. Anonymisation: no identifying value left in any text column of any
 * table (a scan of the catalog, so a new column cannot be forgotten) nor in the suite's Redis keys;
 * future appointments cancelled through the normal transition (events in the outbox, reminder jobs
 * removed by the worker's processing of them); counts kept; a second call answers the same. Blocking:
 * out of the list, notices and new bookings, still readable by id; unblocking restores it.
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { invoke } from '../support/invoke';
import { localAt, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

const suite = useSuite({
  env: { AGENDA_PROFILE: 'worker' },
  modules: {
    fns: () => import('../../functions/http/patients'),
    appts: () => import('../../functions/http/appointments'),
    processors: () => import('../../lib/jobs/processors/domain-event'),
    reminders: () => import('../../lib/jobs/processors/appointment-reminder'),
    queues: () => import('../../lib/platform/queues/queues'),
    redis: () => import('../../lib/platform/redis/client'),
  },
  pg: true,
  obliterateQueues: true,
});
const c = suite.m;

type Auth = Awaited<ReturnType<typeof newClinic>>['auth'];
const withKey = (auth: Auth, key: string) => ({ headers: { ...auth.headers, 'idempotency-key': key } });

const call = (auth: Auth | { headers: Record<string, string> }, method: string, route: string, id: string, body?: unknown) =>
  invoke(c.fns.handler, { method, routeKey: `${method} ${route}`, path: route.replace('{id}', id), pathParameters: { id }, headers: auth.headers, ...(body !== undefined && { body }) });

const appt = (auth: Auth | { headers: Record<string, string> }, method: string, route: string, body: unknown, id?: string) =>
  invoke(c.appts.handler, { method, routeKey: `${method} ${route}`, path: id ? route.replace('{id}', id) : route, ...(id && { pathParameters: { id } }), headers: auth.headers, body });

const domainJob = (eventId: string) => ({ queue: 'agenda', name: 'domain.event', id: eventId, data: { eventId }, attemptsMade: 0, mode: 'inline' }) as const;

async function processEvents(aggregateId: string, type: string) {
  const { rows } = await suite.pg.query<{ id: string }>('SELECT id FROM outbox_events WHERE aggregate_id = $1 AND type = $2', [aggregateId, type]);
  for (const r of rows) await c.processors.processDomainEvent(domainJob(r.id));
  return rows.length;
}

/** Every (table, column) holding text or JSON in the schema, read from the catalog. */
async function textColumns() {
  const { rows } = await suite.pg.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
        AND c.table_name <> '_prisma_migrations'`,
  );
  return rows;
}

/** Where any of the values still appears: `table.column` for each hit. */
async function findInDatabase(values: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const { table_name, column_name } of await textColumns()) {
    const { rows } = await suite.pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${table_name}" WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) v WHERE "${column_name}"::text ILIKE '%' || v || '%')`,
      [values],
    );
    if (rows[0]!.n > 0) hits.push(`${table_name}.${column_name}`);
  }
  return hits;
}

async function findInRedis(values: string[]): Promise<string[]> {
  const redis = (await c.redis.getRedis()) as unknown as {
    keys(p: string): Promise<string[]>;
    type(k: string): Promise<string>;
    hgetall(k: string): Promise<Record<string, string>>;
    get(k: string): Promise<string | null>;
  };
  const hits: string[] = [];
  for (const key of await redis.keys(`${process.env.QUEUE_PREFIX}*`)) {
    const type = await redis.type(key);
    const text = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'string' ? ((await redis.get(key)) ?? '') : '';
    if (values.some((v) => text.toLowerCase().includes(v.toLowerCase()))) hits.push(key);
  }
  return hits;
}

describe('POST /v1/patients/{id}/anonymize', () => {
  it('erases every personal value from every table, cancels future appointments (events, reminders removed), keeps counts, is idempotent', async () => {
    const clinic = await newClinic();
    const pro = await newProfessional(clinic.clinicId);
    const tag = randomUUID().slice(0, 8);
    const personal = {
      name: `Beatriz Anon${tag}`,
      email: `beatriz.${tag}@example.com`,
      phone: `+55119${tag.replace(/\D/g, '7').padEnd(8, '7').slice(0, 8)}`,
      birthDate: '1979-03-14',
    };
    const freeText = [`nota-${tag}`, `motivo-${tag}`, `passado-${tag}`];
    const created = await invoke(c.fns.handler, { method: 'POST', routeKey: 'POST /v1/patients', path: '/v1/patients', ...withKey(clinic.auth, `p-${tag}`), body: personal });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // Ahead: one booked (with notes, through an Idempotency-Key), one cancelled with a reason.
    const ahead = await appt(withKey(clinic.auth, `a-${tag}`), 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(3, 10), notes: freeText[0] });
    expect(ahead.status).toBe(201);
    const other = await appt(clinic.auth, 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(4, 10) });
    expect((await appt(withKey(clinic.auth, `c-${tag}`), 'POST', '/v1/appointments/{id}/cancel', { reason: freeText[1] }, other.body.id)).status).toBe(200);
    // Behind: a completed visit with notes, as the agenda keeps it.
    const past = new Date(Date.now() - 7 * 86_400_000);
    await suite.pg.query(
      `INSERT INTO appointments (clinic_id, professional_id, patient_id, starts_at, ends_at, block_starts_at, block_ends_at, status, notes)
       VALUES ($1, $2, $3, $4, $4::timestamptz + interval '30 minutes', $4, $4::timestamptz + interval '30 minutes', 'completed', $5)`,
      [clinic.clinicId, pro.id, id, past, freeText[2]],
    );
    // The booking's event ran: reminders queued, a confirmation recorded.
    expect(await processEvents(ahead.body.id, 'appointment.created')).toBe(1);
    const queue = await c.queues.getAgendaQueue();
    expect(await queue.getJob(`reminder:${ahead.body.id}:1440`)).toBeDefined();
    const pending = await suite.pg.query("SELECT count(*)::int AS n FROM notifications WHERE patient_id = $1 AND status = 'pending'", [id]);
    expect(pending.rows[0].n).toBeGreaterThan(0);
    const countsBefore = await suite.pg.query('SELECT status, count(*)::int AS n FROM appointments WHERE patient_id = $1 GROUP BY status ORDER BY status', [id]);

    const everything = [personal.name, personal.email, personal.phone, ...freeText];
    expect((await findInDatabase(everything)).length).toBeGreaterThan(0); // the scan does find them before

    const res = await call(clinic.auth, 'POST', '/v1/patients/{id}/anonymize', id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, name: 'Paciente anonimizado', email: null, phone: null, birthDate: null, notifyEmail: false, notifyInApp: false });
    expect(res.body.anonymizedAt).toEqual(expect.any(String));

    // Nothing identifying left, in any table (idempotency bodies included) nor in Redis.
    expect(await findInDatabase(everything)).toEqual([]);
    // The birth date is too common a value to scan every table for: its two places, checked directly.
    // The e-mail's keyed hash (an identifier too) goes with the address.
    expect((await suite.pg.query('SELECT birth_date, email, phone, email_hash FROM patients WHERE id = $1', [id])).rows[0]).toEqual({ birth_date: null, email: null, phone: null, email_hash: null });
    const stored = await suite.pg.query('SELECT count(*)::int AS n FROM idempotency_keys WHERE clinic_id = $1 AND response_body::text LIKE $2', [clinic.clinicId, `%${personal.birthDate}%`]);
    expect(stored.rows[0].n).toBe(0);
    expect(await findInRedis(everything)).toEqual([]);

    // The future appointment went through the normal cancellation; counts and statuses otherwise kept.
    const rows = await suite.pg.query('SELECT id::text, status, cancel_reason FROM appointments WHERE patient_id = $1 ORDER BY starts_at', [id]);
    expect(rows.rows.map((r) => [r.status, r.cancel_reason])).toEqual([
      ['completed', null],
      ['cancelled', 'patient_anonymized'],
      ['cancelled', null],
    ]);
    const countsAfter = await suite.pg.query('SELECT count(*)::int AS n FROM appointments WHERE patient_id = $1', [id]);
    expect(countsAfter.rows[0].n).toBe(countsBefore.rows.reduce((s, r) => s + r.n, 0));
    const history = await suite.pg.query("SELECT action, reason FROM appointment_history WHERE appointment_id = $1 ORDER BY created_at", [ahead.body.id]);
    expect(history.rows).toEqual([
      { action: 'created', reason: null },
      { action: 'cancelled', reason: 'patient_anonymized' },
    ]);
    const notices = await suite.pg.query("SELECT count(*)::int AS n FROM notifications WHERE patient_id = $1 AND status IN ('pending', 'failed')", [id]);
    expect(notices.rows[0].n).toBe(0);

    // The cancellation event is in the outbox; processing it removes the reminders and notifies nobody.
    expect(await processEvents(ahead.body.id, 'appointment.cancelled')).toBe(1);
    expect(await queue.getJob(`reminder:${ahead.body.id}:1440`)).toBeUndefined();
    expect(await queue.getJob(`reminder:${ahead.body.id}:120`)).toBeUndefined();
    const cancelNotice = await suite.pg.query("SELECT DISTINCT status, skip_reason FROM notifications WHERE appointment_id = $1 AND kind = 'cancellation'", [ahead.body.id]);
    expect(cancelNotice.rows).toEqual([{ status: 'skipped', skip_reason: 'anonymized' }]);

    // A retry of the old booking replays, without the notes.
    const replay = await appt(withKey(clinic.auth, `a-${tag}`), 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(3, 10), notes: freeText[0] });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toMatchObject({ id: ahead.body.id, notes: null });

    // Idempotent: the same answer, nothing more cancelled or recorded.
    const events = await suite.pg.query('SELECT count(*)::int AS n FROM outbox_events WHERE clinic_id = $1', [clinic.clinicId]);
    const again = await call(clinic.auth, 'POST', '/v1/patients/{id}/anonymize', id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect((await suite.pg.query('SELECT count(*)::int AS n FROM outbox_events WHERE clinic_id = $1', [clinic.clinicId])).rows[0].n).toBe(events.rows[0].n);

    // An anonymised patient cannot be changed, re-consented or booked.
    expect((await call(clinic.auth, 'PATCH', '/v1/patients/{id}', id, { name: 'X' })).body.error.details.rule).toBe('patient_anonymized');
    expect((await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', id, { channel: 'email', status: 'granted', basis: 'consent' })).status).toBe(422);
    const booking = await appt(clinic.auth, 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(5, 10) });
    expect(booking.status).toBe(422);
    expect(booking.body.error.details.rule).toBe('patient_anonymized');
  });

  it("another clinic's patient is a 404, and nothing changes", async () => {
    const a = await newClinic();
    const b = await newClinic();
    const created = await invoke(c.fns.handler, { method: 'POST', routeKey: 'POST /v1/patients', path: '/v1/patients', headers: a.auth.headers, body: { name: 'Carla Dias' } });
    const id = created.body.id as string;
    for (const route of ['/v1/patients/{id}/anonymize', '/v1/patients/{id}/block', '/v1/patients/{id}/unblock']) {
      expect((await call(b.auth, 'POST', route, id)).status).toBe(404);
    }
    const row = await suite.pg.query('SELECT name, anonymized_at, blocked_at FROM patients WHERE id = $1', [id]);
    expect(row.rows[0]).toEqual({ name: 'Carla Dias', anonymized_at: null, blocked_at: null });
  });
});

describe('POST /v1/patients/{id}/block and /unblock', () => {
  it('a blocked patient leaves the list, notices and new bookings, stays readable by id; unblocking restores it', async () => {
    const clinic = await newClinic();
    const pro = await newProfessional(clinic.clinicId);
    const name = `Davi Block${randomUUID().slice(0, 8)}`;
    const created = await invoke(c.fns.handler, { method: 'POST', routeKey: 'POST /v1/patients', path: '/v1/patients', headers: clinic.auth.headers, body: { name, email: 'davi@example.com' } });
    const id = created.body.id as string;
    const booked = await appt(clinic.auth, 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(3, 11) });
    expect(booked.status).toBe(201);
    await processEvents(booked.body.id, 'appointment.created'); // a confirmation waiting to go out

    const blocked = await call(clinic.auth, 'POST', '/v1/patients/{id}/block', id);
    expect(blocked.status).toBe(200);
    expect(blocked.body.blockedAt).toEqual(expect.any(String));
    expect((await call(clinic.auth, 'POST', '/v1/patients/{id}/block', id)).body.blockedAt).toBe(blocked.body.blockedAt);

    const list = async () =>
      (await invoke(c.fns.handler, { method: 'GET', routeKey: 'GET /v1/patients', path: `/v1/patients?q=${encodeURIComponent(name)}`, headers: clinic.auth.headers })).body.data;
    expect(await list()).toEqual([]);
    const got = await call(clinic.auth, 'GET', '/v1/patients/{id}', id);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name, email: 'davi@example.com', blockedAt: blocked.body.blockedAt });
    // The agenda still shows the appointment (it holds the professional's time; it carries only the id).
    expect((await appt(clinic.auth, 'GET', '/v1/appointments/{id}', undefined, booked.body.id)).status).toBe(200);

    // Notices: those waiting are skipped, and a reminder firing now records nothing to send.
    const job = { queue: 'agenda', name: 'appointment.reminder', id: `reminder:${booked.body.id}:1440`, data: { appointmentId: booked.body.id, offsetMinutes: 1440, startsAt: booked.body.startsAt }, attemptsMade: 0, mode: 'inline' } as const;
    expect(await c.reminders.processReminder(job)).toMatchObject({ due: true, notifications: [] });
    const notices = await suite.pg.query('SELECT DISTINCT status, skip_reason FROM notifications WHERE patient_id = $1', [id]);
    expect(notices.rows).toEqual([{ status: 'skipped', skip_reason: 'blocked' }]);

    const refused = await appt(clinic.auth, 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(5, 11) });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.rule).toBe('patient_blocked');

    const unblocked = await call(clinic.auth, 'POST', '/v1/patients/{id}/unblock', id);
    expect(unblocked.status).toBe(200);
    expect(unblocked.body.blockedAt).toBeNull();
    expect((await list()).map((p: { id: string }) => p.id)).toEqual([id]);
    expect((await appt(clinic.auth, 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(5, 11) })).status).toBe(201);
  });

  it('DELETE of a patient with appointments stays a 409 whose message points to anonymize and block', async () => {
    const clinic = await newClinic();
    const pro = await newProfessional(clinic.clinicId);
    const created = await invoke(c.fns.handler, { method: 'POST', routeKey: 'POST /v1/patients', path: '/v1/patients', headers: clinic.auth.headers, body: { name: 'Eva Lima' } });
    const id = created.body.id as string;
    expect((await appt(clinic.auth, 'POST', '/v1/appointments', { professionalId: pro.id, patientId: id, startsAt: localAt(3, 12) })).status).toBe(201);
    for (const lang of ['en', 'pt-BR']) {
      const res = await invoke(c.fns.handler, { method: 'DELETE', routeKey: 'DELETE /v1/patients/{id}', path: `/v1/patients/${id}`, pathParameters: { id }, headers: { ...clinic.auth.headers, 'accept-language': lang } });
      expect(res.status).toBe(409);
      expect(res.body.error.details.rule).toBe('patient_has_appointments');
      expect(res.body.error.message).toContain('/anonymize');
      expect(res.body.error.message).toContain('/block');
    }
  });
});
