/**
 * The access audit trail (LGPD), through the real handlers and database: changes recorded by the
 * triggers with the actor (API key, admin, job) and the Lambda request id, reads recorded by the
 * services, concurrent requests never mixing their actors, the table append-only except for the
 * retention purge, GET /v1/audit-events, GET /v1/patients/{id}/export (its documented shape, every
 * table that references a patient covered) and api_keys.last_used_at.
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { invoke, type InvokeResult } from '../support/invoke';
import { localAt, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

const suite = useSuite({
  env: { AGENDA_PROFILE: 'worker' },
  modules: {
    patients: () => import('../../functions/http/patients'),
    appts: () => import('../../functions/http/appointments'),
    controls: () => import('../../functions/http/controls'),
    clinicFns: () => import('../../functions/http/clinic'),
    registry: () => import('../../lib/jobs/registry'),
    purge: () => import('../../lib/domain/retention/purge'),
    rules: () => import('../../lib/domain/retention/rules'),
    exportDoc: () => import('../../lib/domain/data-subject/export'),
    exportSchema: () => import('../../lib/domain/data-subject/schemas'),
  },
  pg: true,
  obliterateQueues: true,
});
const c = suite.m;

type Headers = { headers: Record<string, string> };
type Clinic = Awaited<ReturnType<typeof newClinic>>;

function route(handler: Parameters<typeof invoke>[0], auth: Headers, method: string, key: string, opts: { id?: string; body?: unknown; query?: Record<string, string> } = {}) {
  const path = (opts.id ? key.replace('{id}', opts.id) : key) + (opts.query ? `?${new URLSearchParams(opts.query)}` : '');
  return invoke(handler, {
    method,
    routeKey: `${method} ${key}`,
    path,
    headers: auth.headers,
    ...(opts.id && { pathParameters: { id: opts.id } }),
    ...(opts.body !== undefined && { body: opts.body }),
  });
}

interface AuditRow {
  actor_type: string;
  actor_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string;
  patient_id: string | null;
  request_id: string | null;
}

async function auditOf(clinicId: string, where = 'TRUE', params: unknown[] = []): Promise<AuditRow[]> {
  const { rows } = await suite.pg.query<AuditRow>(
    `SELECT actor_type, actor_id, action, resource_type, resource_id, patient_id::text, request_id
       FROM audit_events WHERE clinic_id = $1 AND ${where} ORDER BY at, id`,
    [clinicId, ...params],
  );
  return rows;
}

const keyIdOf = async (clinicId: string) =>
  (await suite.pg.query<{ id: string }>('SELECT id::text FROM api_keys WHERE clinic_id = $1 ORDER BY created_at LIMIT 1', [clinicId])).rows[0]!.id;

async function newPatient(clinic: Clinic, name = 'Ana Auditada'): Promise<InvokeResult> {
  const res = await route(c.patients.handler, clinic.auth, 'POST', '/v1/patients', { body: { name, email: `ana.${randomUUID().slice(0, 6)}@example.com` } });
  expect(res.status).toBe(201);
  return res;
}

/** A key with only the read scope, minted through the API. */
async function readOnlyKey(clinic: Clinic): Promise<Headers & { id: string }> {
  const res = await route(c.clinicFns.handler, clinic.auth, 'POST', '/v1/api-keys', { body: { name: 'recepção', scopes: ['read'] } });
  expect(res.status).toBe(201);
  return { id: res.body.id, headers: { authorization: `Bearer ${res.body.key}` } };
}

describe('changes are recorded by the database, with the actor and the request id', () => {
  it('patient create, update, block, unblock, anonymise; appointment booking and cancellation; consent', async () => {
    const clinic = await newClinic();
    const keyId = await keyIdOf(clinic.clinicId);
    const pro = await newProfessional(clinic.clinicId);
    const created = await newPatient(clinic);
    const id = created.body.id as string;
    const updated = await route(c.patients.handler, clinic.auth, 'PATCH', '/v1/patients/{id}', { id, body: { name: 'Ana Atualizada' } });
    expect(updated.status).toBe(200);
    const booked = await route(c.appts.handler, clinic.auth, 'POST', '/v1/appointments', { body: { professionalId: pro.id, patientId: id, startsAt: localAt(3, 10) } });
    expect(booked.status).toBe(201);
    const cancelled = await route(c.appts.handler, clinic.auth, 'POST', '/v1/appointments/{id}/cancel', { id: booked.body.id, body: { reason: 'agenda' } });
    expect(cancelled.status).toBe(200);
    const consent = await route(c.patients.handler, clinic.auth, 'POST', '/v1/patients/{id}/consents', { id, body: { channel: 'whatsapp', status: 'granted', basis: 'consent' } });
    expect(consent.status).toBe(201);
    const blocked = await route(c.patients.handler, clinic.auth, 'POST', '/v1/patients/{id}/block', { id });
    const unblocked = await route(c.patients.handler, clinic.auth, 'POST', '/v1/patients/{id}/unblock', { id });
    const anonymized = await route(c.patients.handler, clinic.auth, 'POST', '/v1/patients/{id}/anonymize', { id });
    expect([blocked.status, unblocked.status, anonymized.status]).toEqual([200, 200, 200]);

    const changes = await auditOf(clinic.clinicId, "action NOT IN ('read', 'list') AND patient_id = $2", [id]);
    const byKey = { actor_type: 'api_key', actor_id: keyId, patient_id: id };
    // The create's consent rows (the flags) and its own row, in the create's request.
    expect(changes.filter((r) => r.request_id === created.requestId)).toEqual(
      expect.arrayContaining([
        { ...byKey, action: 'create', resource_type: 'patient', resource_id: id, request_id: created.requestId },
        { ...byKey, action: 'create', resource_type: 'consent', resource_id: expect.any(String), request_id: created.requestId },
      ]),
    );
    const oneOf = (res: InvokeResult, action: string, resource: string, resourceId: string) =>
      expect(changes).toContainEqual({ ...byKey, action, resource_type: resource, resource_id: resourceId, request_id: res.requestId });
    oneOf(updated, 'update', 'patient', id);
    oneOf(booked, 'create', 'appointment', booked.body.id);
    oneOf(cancelled, 'update', 'appointment', booked.body.id);
    oneOf(consent, 'create', 'consent', expect.any(String));
    oneOf(blocked, 'block', 'patient', id);
    oneOf(unblocked, 'unblock', 'patient', id);
    oneOf(anonymized, 'anonymize', 'patient', id);
    // Nothing personal in the trail: ids, names of actions and resources only.
    const text = JSON.stringify(await auditOf(clinic.clinicId));
    expect(text).not.toMatch(/Ana|example\.com|agenda"/);
  });

  it('a job is the actor of what it changes: its name and its run id', async () => {
    const clinic = await newClinic();
    const pro = await newProfessional(clinic.clinicId);
    const patient = (await newPatient(clinic)).body.id as string;
    await suite.pg.query('UPDATE clinics SET auto_no_show_after_minutes = 0 WHERE id = $1', [clinic.clinicId]);
    const start = new Date(Date.now() - 3 * 3_600_000);
    const { rows } = await suite.pg.query<{ id: string }>(
      `INSERT INTO appointments (clinic_id, professional_id, patient_id, starts_at, ends_at, block_starts_at, block_ends_at)
       VALUES ($1, $2, $3, $4, $4::timestamptz + interval '30 minutes', $4, $4::timestamptz + interval '30 minutes') RETURNING id::text`,
      [clinic.clinicId, pro.id, patient, start],
    );
    const appointmentId = rows[0]!.id;
    const jobId = `sweep-${randomUUID()}`;
    await c.registry.runJob({ queue: 'agenda', name: 'appointments.no_show_sweep', id: jobId, data: {}, attemptsMade: 0, mode: 'inline' });
    expect(await auditOf(clinic.clinicId, "resource_id = $2 AND action = 'update'", [appointmentId])).toEqual([
      { actor_type: 'job', actor_id: 'appointments.no_show_sweep', action: 'update', resource_type: 'appointment', resource_id: appointmentId, patient_id: patient, request_id: jobId },
    ]);
    // The fixture's own insert, made outside any actor, is the system's.
    expect(await auditOf(clinic.clinicId, "resource_id = $2 AND action = 'create'", [appointmentId])).toEqual([
      expect.objectContaining({ actor_type: 'system', actor_id: null, request_id: null }),
    ]);
  });

  it('requests running at the same time in one container never mix their actors', async () => {
    const clinic = await newClinic();
    const other = await readOnlyKey(clinic);
    const writer = await route(c.clinicFns.handler, clinic.auth, 'POST', '/v1/api-keys', { body: { name: 'balcão', scopes: ['read', 'write'] } });
    const second = { id: writer.body.id as string, headers: { authorization: `Bearer ${writer.body.key}` } };
    const first = { id: await keyIdOf(clinic.clinicId), headers: clinic.auth.headers };
    const creates = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const by = i % 2 ? second : first;
        return route(c.patients.handler, by, 'POST', '/v1/patients', { body: { name: `P${i}` } }).then((res) => ({ res, by }));
      }),
    );
    const reads = await Promise.all(creates.map(({ res }, i) => {
      const by = i % 2 ? other : first;
      return route(c.patients.handler, by, 'GET', '/v1/patients/{id}', { id: res.body.id }).then((r) => ({ res: r, by, id: res.body.id as string }));
    }));
    for (const { res, by } of creates) {
      expect(res.status).toBe(201);
      expect(await auditOf(clinic.clinicId, "resource_type = 'patient' AND action = 'create' AND resource_id = $2", [res.body.id])).toEqual([
        expect.objectContaining({ actor_id: by.id, request_id: res.requestId }),
      ]);
    }
    for (const { res, by, id } of reads) {
      expect(res.status).toBe(200);
      expect(await auditOf(clinic.clinicId, "action = 'read' AND resource_id = $2", [id])).toEqual([
        expect.objectContaining({ actor_type: 'api_key', actor_id: by.id, request_id: res.requestId }),
      ]);
    }
  });
});

describe('idempotent replays', () => {
  it('a replayed answer is recorded as a read of the record it shows, by the key replaying it', async () => {
    const clinic = await newClinic();
    const keyId = await keyIdOf(clinic.clinicId);
    const pro = await newProfessional(clinic.clinicId);
    const withKey = (key: string) => ({ headers: { ...clinic.auth.headers, 'idempotency-key': key } });
    const body = { name: 'Replay', email: 'replay@example.com' };
    const first = await route(c.patients.handler, withKey('p-1'), 'POST', '/v1/patients', { body });
    const again = await route(c.patients.handler, withKey('p-1'), 'POST', '/v1/patients', { body });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const id = first.body.id as string;
    expect(await auditOf(clinic.clinicId, 'request_id = $2', [again.requestId])).toEqual([
      { actor_type: 'api_key', actor_id: keyId, action: 'read', resource_type: 'patient', resource_id: id, patient_id: id, request_id: again.requestId },
    ]);
    const booking = { professionalId: pro.id, patientId: id, startsAt: localAt(5, 10) };
    const booked = await route(c.appts.handler, withKey('a-1'), 'POST', '/v1/appointments', { body: booking });
    const rebooked = await route(c.appts.handler, withKey('a-1'), 'POST', '/v1/appointments', { body: booking });
    expect(rebooked.headers['idempotent-replayed']).toBe('true');
    expect(await auditOf(clinic.clinicId, 'request_id = $2', [rebooked.requestId])).toEqual([
      expect.objectContaining({ action: 'read', resource_type: 'appointment', resource_id: booked.body.id, patient_id: id }),
    ]);
  });
});

describe('reads are recorded by the services', () => {
  it('single reads (patient, consents, appointment, session package), list pages; a 404 records nothing', async () => {
    const clinic = await newClinic();
    const stranger = await newClinic();
    const reader = await readOnlyKey(clinic);
    const pro = await newProfessional(clinic.clinicId);
    const id = (await newPatient(clinic)).body.id as string;
    const appt = (await route(c.appts.handler, clinic.auth, 'POST', '/v1/appointments', { body: { professionalId: pro.id, patientId: id, startsAt: localAt(3, 11) } })).body.id as string;
    const pkg = await route(c.controls.handler, clinic.auth, 'POST', '/v1/controls', { body: { patientId: id, sessionsTotal: 4, validUntil: localAt(60, 0) } });
    expect(pkg.status).toBe(201);

    const reads = [
      ['patient', await route(c.patients.handler, reader, 'GET', '/v1/patients/{id}', { id }), id],
      ['consent', await route(c.patients.handler, reader, 'GET', '/v1/patients/{id}/consents', { id }), id],
      ['appointment', await route(c.appts.handler, reader, 'GET', '/v1/appointments/{id}', { id: appt }), appt],
      ['session_package', await route(c.controls.handler, reader, 'GET', '/v1/controls/{id}', { id: pkg.body.id }), pkg.body.id],
    ] as const;
    for (const [resource, res, resourceId] of reads) {
      expect(res.status).toBe(200);
      expect(await auditOf(clinic.clinicId, 'request_id = $2', [res.requestId])).toEqual([
        { actor_type: 'api_key', actor_id: reader.id, action: 'read', resource_type: resource, resource_id: resourceId, patient_id: id, request_id: res.requestId },
      ]);
    }
    const lists = [
      ['patient', await route(c.patients.handler, reader, 'GET', '/v1/patients', { query: { limit: '10' } }), id],
      ['appointment', await route(c.appts.handler, reader, 'GET', '/v1/appointments', { query: { patientId: id } }), appt],
      ['session_package', await route(c.controls.handler, reader, 'GET', '/v1/controls', { query: { patientId: id } }), pkg.body.id],
    ] as const;
    for (const [resource, res, resourceId] of lists) {
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(1);
      expect(await auditOf(clinic.clinicId, 'request_id = $2', [res.requestId])).toEqual([
        { actor_type: 'api_key', actor_id: reader.id, action: 'list', resource_type: resource, resource_id: resourceId, patient_id: id, request_id: res.requestId },
      ]);
    }
    // Another clinic's key asking for this patient: 404, and nothing recorded anywhere.
    const probe = await route(c.patients.handler, stranger.auth, 'GET', '/v1/patients/{id}', { id });
    expect(probe.status).toBe(404);
    expect((await suite.pg.query('SELECT count(*)::int AS n FROM audit_events WHERE request_id = $1', [probe.requestId])).rows[0].n).toBe(0);
  });
});

describe('GET /v1/audit-events', () => {
  it('answers who saw or changed a patient, by patient and time, a page at a time; admin scope only', async () => {
    const clinic = await newClinic();
    const reader = await readOnlyKey(clinic);
    const id = (await newPatient(clinic)).body.id as string;
    const other = (await newPatient(clinic, 'Outro')).body.id as string;
    for (let i = 0; i < 3; i += 1) expect((await route(c.patients.handler, reader, 'GET', '/v1/patients/{id}', { id })).status).toBe(200);
    await route(c.patients.handler, reader, 'GET', '/v1/patients/{id}', { id: other });

    const all: { action: string; actorId: string | null; patientId: string }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await route(c.patients.handler, clinic.auth, 'GET', '/v1/audit-events', { query: { patientId: id, limit: '2', ...(cursor && { cursor }) } });
      expect(res.status).toBe(200);
      all.push(...res.body.data);
      cursor = res.body.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBeGreaterThan(1);
    expect(all.every((e) => e.patientId === id)).toBe(true);
    expect(all.filter((e) => e.action === 'read').map((e) => e.actorId)).toEqual([reader.id, reader.id, reader.id]);
    expect(all.some((e) => e.action === 'create')).toBe(true);
    expect(new Set(all.map((e) => JSON.stringify(e))).size).toBe(all.length); // no event twice across pages

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await route(c.patients.handler, clinic.auth, 'GET', '/v1/audit-events', { query: { patientId: id, from: future } });
    expect(none.body.data).toEqual([]);
    const forbidden = await route(c.patients.handler, reader, 'GET', '/v1/audit-events', { query: { patientId: id } });
    expect(forbidden.status).toBe(403);
    const bad = await route(c.patients.handler, clinic.auth, 'GET', '/v1/audit-events', { query: { cursor: 'nope', from: 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/cursor/);
    expect(JSON.stringify(bad.body)).toMatch(/from/);
  });
});

describe('append-only, except for retention', () => {
  it('refuses UPDATE, DELETE and TRUNCATE; the purge deletes only rows past the clinic retention; a deleted clinic takes its trail', async () => {
    const clinic = await newClinic();
    const id = (await newPatient(clinic)).body.id as string;
    for (const sql of ['UPDATE audit_events SET action = $2 WHERE clinic_id = $1', 'DELETE FROM audit_events WHERE clinic_id = $1 AND action <> $2']) {
      await expect(suite.pg.query(sql, [clinic.clinicId, 'read'])).rejects.toThrow(/append-only/);
    }
    await expect(suite.pg.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);

    await suite.pg.query(
      `INSERT INTO audit_events (clinic_id, at, actor_type, action, resource_type, resource_id, patient_id)
       VALUES ($1, now() - interval '2000 days', 'system', 'read', 'patient', $2::text, $2::uuid), ($1, now() - interval '100 days', 'system', 'read', 'patient', $2::text, $2::uuid)`,
      [clinic.clinicId, id],
    );
    const rule = c.rules.RETENTION_RULES.find((r) => r.name === 'audit_events')!;
    const before = (await auditOf(clinic.clinicId)).length;
    const outcome = await c.purge.purgeExpired({ rules: [rule] });
    expect(outcome.audit_events!.rows).toBeGreaterThanOrEqual(1);
    const old = await suite.pg.query("SELECT count(*)::int AS n FROM audit_events WHERE clinic_id = $1 AND at < now() - interval '1825 days'", [clinic.clinicId]);
    expect(old.rows[0].n).toBe(0);
    expect((await auditOf(clinic.clinicId)).length).toBe(before - 1); // the 100-day row and the recent ones stay

    await suite.pg.query('DELETE FROM clinics WHERE id = $1', [clinic.clinicId]);
    expect(await auditOf(clinic.clinicId)).toEqual([]);
  });
});

describe('GET /v1/patients/{id}/export', () => {
  it('is everything held about the patient, in the documented shape, and is itself recorded', async () => {
    const clinic = await newClinic();
    const pro = await newProfessional(clinic.clinicId);
    const created = await newPatient(clinic);
    const id = created.body.id as string;
    const booked = await route(c.appts.handler, clinic.auth, 'POST', '/v1/appointments', { body: { professionalId: pro.id, patientId: id, startsAt: localAt(3, 9), notes: 'alergia a dipirona' } });
    await route(c.appts.handler, clinic.auth, 'POST', '/v1/appointments/{id}/reschedule', { id: booked.body.id, body: { startsAt: localAt(3, 15) } });
    await route(c.controls.handler, clinic.auth, 'POST', '/v1/controls', { body: { patientId: id, sessionsTotal: 2, validUntil: localAt(30, 0) } });
    await suite.pg.query(
      `INSERT INTO notifications (clinic_id, patient_id, appointment_id, kind, channel, status, dedupe_key) VALUES ($1, $2, $3, 'confirmation', 'email', 'sent', $4)`,
      [clinic.clinicId, id, booked.body.id, `export-test:${randomUUID()}`],
    );
    const endpoint = await suite.pg.query<{ id: string }>(
      `INSERT INTO webhook_endpoints (clinic_id, url, secret, event_types) VALUES ($1, 'https://hooks.example.com/x', 'whsec_x', ARRAY['*']) RETURNING id::text`,
      [clinic.clinicId],
    );
    for (const patientId of [id, randomUUID()]) {
      await suite.pg.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload) VALUES ($1, gen_random_uuid(), 'appointment.created', $2)`,
        [endpoint.rows[0]!.id, JSON.stringify({ type: 'appointment.created', data: { patientId } })],
      );
    }

    const res = await route(c.patients.handler, clinic.auth, 'GET', '/v1/patients/{id}/export', { id });
    expect(res.status).toBe(200);
    const doc = c.exportSchema.patientExportSchema.parse(res.body); // strict: nothing undocumented
    expect(doc.patient).toMatchObject({ id, name: 'Ana Auditada', email: created.body.email });
    expect(doc.consents.map((x) => x.channel).sort()).toEqual(['email', 'in_app']);
    expect(doc.appointments).toHaveLength(1);
    expect(doc.appointments[0]).toMatchObject({ notes: 'alergia a dipirona' });
    expect(doc.appointments[0]!.history.map((h) => h.action)).toEqual(expect.arrayContaining(['created', 'rescheduled']));
    expect(doc.sessionPackages).toHaveLength(1);
    expect(doc.notifications).toEqual([expect.objectContaining({ kind: 'confirmation', status: 'sent' })]);
    expect(doc.webhookDeliveries).toEqual([expect.objectContaining({ eventType: 'appointment.created', url: 'https://hooks.example.com/x' })]);
    expect(doc.auditEvents.some((e) => e.action === 'create' && e.resourceType === 'patient')).toBe(true);
    expect(await auditOf(clinic.clinicId, "action = 'export'")).toEqual([
      expect.objectContaining({ resource_type: 'patient', resource_id: id, patient_id: id, request_id: res.requestId }),
    ]);

    const stranger = await newClinic();
    expect((await route(c.patients.handler, stranger.auth, 'GET', '/v1/patients/{id}/export', { id })).status).toBe(404);
    const reader = await readOnlyKey(clinic);
    expect((await route(c.patients.handler, reader, 'GET', '/v1/patients/{id}/export', { id })).status).toBe(403);
  });

  it('covers every table that refers to a patient, an appointment or a session package, or says why not', async () => {
    const { rows } = await suite.pg.query<{ table_name: string }>(
      `SELECT DISTINCT tc.table_name FROM information_schema.table_constraints tc
         JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()
          AND ccu.table_name IN ('patients', 'appointments', 'appointment_controls')
       UNION
       SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'patient_id'`,
    );
    const known = new Set([...Object.keys(c.exportDoc.EXPORT_COVERAGE), ...Object.keys(c.exportDoc.EXPORT_EXCLUDED)]);
    const missing = rows.map((r) => r.table_name).filter((t) => !known.has(t) && t !== 'patients');
    expect(missing).toEqual([]);
  });
});

describe('api_keys.last_used_at', () => {
  it('is written on use, at most once a minute per key', async () => {
    const clinic = await newClinic();
    const keyId = await keyIdOf(clinic.clinicId);
    const lastUsed = async () => (await suite.pg.query<{ t: Date | null }>('SELECT last_used_at AS t FROM api_keys WHERE id = $1', [keyId])).rows[0]!.t;
    expect(await lastUsed()).toBeNull();
    expect((await route(c.patients.handler, clinic.auth, 'GET', '/v1/patients')).status).toBe(200);
    const first = await lastUsed();
    expect(first).toEqual(expect.any(Date));
    // Stamped once per minute: a second use keeps the stamp (no write per request).
    expect((await route(c.patients.handler, clinic.auth, 'GET', '/v1/patients')).status).toBe(200);
    expect(await lastUsed()).toEqual(first);
    // A request refused for a missing scope is still a use of that key.
    const reader = await readOnlyKey(clinic);
    expect((await route(c.patients.handler, reader, 'GET', '/v1/audit-events')).status).toBe(403);
    const readerUsed = await suite.pg.query<{ t: Date | null }>('SELECT last_used_at AS t FROM api_keys WHERE id = $1', [reader.id]);
    expect(readerUsed.rows[0]!.t).toEqual(expect.any(Date));
  });
});
