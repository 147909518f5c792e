/**
 * Consent per patient and channel (LGPD art. 7/11), through the patients function's real handler
 * and the real database: grants and revocations append history, the current state is the latest
 * record per channel and the notify flags follow it, legitimate interest is refused (422), and a
 * revoked e-mail consent turns a reminder already recorded into `skipped` / `no_consent` at send
 * time with nothing reaching a real SMTP server (test/support/smtp-sink.ts); in-app likewise.
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { invoke } from '../support/invoke';
import { localAt, newProfessional } from '../support/scheduling-fixtures';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { useSuite } from '../support/suite';

const suite = useSuite({
  env: { AGENDA_PROFILE: 'worker', SMTP_URL: undefined, SMTP_FROM: 'Agenda Test <agenda@test.local>', SMTP_TIMEOUT_MS: '2000' },
  modules: {
    fns: () => import('../../functions/http/patients'),
    appointments: () => import('../../lib/domain/appointments/service'),
    reminders: () => import('../../lib/jobs/processors/appointment-reminder'),
    sends: () => import('../../lib/jobs/processors/notification-send'),
    inApp: () => import('../../lib/domain/notifications/in-app-delivery'),
    consents: () => import('../../lib/domain/consents/service'),
  },
  pg: true,
  obliterateQueues: true,
});
const c = suite.m;
let smtp: SmtpSink;

beforeAll(async () => {
  smtp = await startSmtpSink();
  process.env.SMTP_URL = `smtp://127.0.0.1:${smtp.port}`;
  await suite.reload();
});
afterAll(() => smtp.close());

type Auth = Awaited<ReturnType<typeof newClinic>>['auth'];

/** One request to the patients function, routed by its route key as API Gateway does. */
const call = (auth: Auth, method: string, route: string, id: string, body?: unknown) =>
  invoke(c.fns.handler, {
    method,
    routeKey: `${method} ${route}`,
    path: route.replace('{id}', id),
    pathParameters: { id },
    headers: auth.headers,
    ...(body !== undefined && { body }),
  });

async function newPatient(auth: Auth, body: Record<string, unknown> = {}) {
  const email = `consent-${randomUUID().slice(0, 8)}@example.com`;
  const res = await invoke(c.fns.handler, { method: 'POST', routeKey: 'POST /v1/patients', path: '/v1/patients', headers: auth.headers, body: { name: 'Ana Souza', email, ...body } });
  expect(res.status).toBe(201);
  return { ...(res.body as { id: string }), email };
}

it('grants and revokes append history; the current state is the latest per channel; the flags and GET /v1/patients/{id} follow', async () => {
  const clinic = await newClinic();
  const p = await newPatient(clinic.auth, { notifyInApp: false });
  const keyId = (await suite.pg.query<{ id: string }>('SELECT id::text FROM api_keys WHERE clinic_id = $1', [clinic.clinicId])).rows[0]!.id;

  // Creation recorded the flags as consent, by the creating key, on the default basis.
  const initial = await call(clinic.auth, 'GET', '/v1/patients/{id}/consents', p.id);
  expect(initial.status).toBe(200);
  expect(initial.body.current).toMatchObject({
    email: { status: 'granted', basis: 'health_protection', actorType: 'api_key', actorId: keyId, source: 'clinic' },
    in_app: { status: 'revoked', basis: null, actorType: 'api_key', actorId: keyId },
    whatsapp: null,
  });

  const grantWa = await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel: 'whatsapp', status: 'granted', basis: 'consent', source: 'patient' });
  expect(grantWa.status).toBe(201);
  expect(grantWa.body).toMatchObject({ channel: 'whatsapp', status: 'granted', basis: 'consent', source: 'patient', actorType: 'api_key', actorId: keyId });
  const revokeEmail = await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel: 'email', status: 'revoked' });
  expect(revokeEmail.status).toBe(201);
  const grantInApp = await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel: 'in_app', status: 'granted', basis: 'contract' });
  expect(grantInApp.status).toBe(201);

  const after = await call(clinic.auth, 'GET', '/v1/patients/{id}/consents', p.id);
  expect(after.body.history.map((r: { channel: string; status: string }) => `${r.channel}:${r.status}`)).toEqual([
    'email:granted',
    'in_app:revoked',
    'whatsapp:granted',
    'email:revoked',
    'in_app:granted',
  ]);
  expect(after.body.current.email).toMatchObject({ status: 'revoked' });
  expect(after.body.current.in_app).toMatchObject({ status: 'granted', basis: 'contract' });
  expect(after.body.current.whatsapp).toMatchObject({ status: 'granted', basis: 'consent' });

  // The patient shows the same current state, and the compatibility flags follow it.
  const patient = await call(clinic.auth, 'GET', '/v1/patients/{id}', p.id);
  expect(patient.body).toMatchObject({ notifyEmail: false, notifyInApp: true });
  expect(patient.body.consents).toEqual(after.body.current);

  // A PATCH of a flag is a consent record too; a PATCH that changes nothing adds none.
  await call(clinic.auth, 'PATCH', '/v1/patients/{id}', p.id, { notifyEmail: true });
  await call(clinic.auth, 'PATCH', '/v1/patients/{id}', p.id, { notifyEmail: true, notifyInApp: true });
  const patched = await call(clinic.auth, 'GET', '/v1/patients/{id}/consents', p.id);
  expect(patched.body.history).toHaveLength(6);
  expect(patched.body.current.email).toMatchObject({ status: 'granted', basis: 'health_protection', actorId: keyId });

  // The export's section is the same data.
  expect(await c.consents.consentsForExport(p.id)).toEqual(patched.body);

  // History is append-only, in the database itself.
  await expect(suite.pg.query("UPDATE patient_consents SET status = 'granted' WHERE patient_id = $1", [p.id])).rejects.toThrow(/append-only/);
});

it('legitimate interest is refused for every channel (422, it is no basis for health data); a grant without a basis is a 400', async () => {
  const clinic = await newClinic();
  const p = await newPatient(clinic.auth);
  for (const channel of ['email', 'in_app', 'whatsapp']) {
    const res = await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel, status: 'granted', basis: 'legitimate_interest' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'rule_violated', details: { rule: 'basis_not_allowed_for_health_data', basis: 'legitimate_interest', channel } });
    expect(res.body.error.message).toMatch(/art\. 7 IX.*art\. 11/);
  }
  const noBasis = await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel: 'email', status: 'granted' });
  expect(noBasis.status).toBe(400);
  expect(noBasis.body.error.details.map((d: { field: string }) => d.field)).toContain('basis');
  const unknown = await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel: 'sms', status: 'granted', basis: 'consent' });
  expect(unknown.status).toBe(400);
  const { rows } = await suite.pg.query('SELECT count(*)::int AS n FROM patient_consents WHERE patient_id = $1', [p.id]);
  expect(rows[0].n).toBe(2); // the creation's two records only
});

it("another clinic's patient is a 404 for reading and recording consent", async () => {
  const a = await newClinic();
  const b = await newClinic();
  const p = await newPatient(a.auth);
  expect((await call(b.auth, 'GET', '/v1/patients/{id}/consents', p.id)).status).toBe(404);
  expect((await call(b.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel: 'email', status: 'revoked' })).status).toBe(404);
});

it('a revoked e-mail consent turns the recorded reminder into skipped / no_consent at send time: nothing reaches the SMTP server; in-app likewise', async () => {
  const clinic = await newClinic();
  const scope = { clinicId: clinic.clinicId, timeZone: 'America/Sao_Paulo' };
  const pro = await newProfessional(clinic.clinicId);
  const p = await newPatient(clinic.auth);
  const appt = await c.appointments.createAppointment(scope, { professionalId: pro.id, patientId: p.id, startsAt: localAt(3, 10) });

  // The 24 h reminder fires while both consents are granted: its notices are recorded pending.
  const job = { queue: 'agenda', name: 'appointment.reminder', id: `reminder:${appt.id}:1440`, data: { appointmentId: appt.id, offsetMinutes: 1440, startsAt: appt.startsAt }, attemptsMade: 0, mode: 'inline' } as const;
  expect(await c.reminders.processReminder(job)).toMatchObject({ due: true });
  const rows = async () =>
    (await suite.pg.query<{ id: string; channel: string; status: string; skip_reason: string | null }>(
      "SELECT id, channel, status, skip_reason FROM notifications WHERE appointment_id = $1 AND kind = 'reminder' ORDER BY channel",
      [appt.id],
    )).rows;
  const [email, inApp] = await rows();
  expect(email).toMatchObject({ channel: 'email', status: 'pending' });
  expect(inApp).toMatchObject({ channel: 'in_app', status: 'pending' });

  // The patient withdraws both before the sends run.
  for (const channel of ['email', 'in_app']) {
    expect((await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel, status: 'revoked', source: 'patient' })).status).toBe(201);
  }
  const send = { queue: 'notification', name: 'notification.send', id: email!.id, data: { notificationId: email!.id }, attemptsMade: 0, mode: 'inline' } as const;
  expect(await c.sends.processNotificationSend(send)).toEqual({ notificationId: email!.id, status: 'skipped', reason: 'no_consent' });
  const delivered = await c.inApp.deliverInApp({ clinicId: clinic.clinicId, appointmentId: appt.id }, async () => [], { limit: 10, stopOnFailure: false }, new Date());
  expect(delivered).toMatchObject({ sent: 0, stale: 1 });
  expect(await rows()).toEqual([
    expect.objectContaining({ channel: 'email', status: 'skipped', skip_reason: 'no_consent' }),
    expect.objectContaining({ channel: 'in_app', status: 'skipped', skip_reason: 'no_consent' }),
  ]);
  expect(smtp.inbox.filter((m) => m.to === p.email)).toHaveLength(0);

  // Granted again: the next reminder goes out, so the sink was listening all along.
  await call(clinic.auth, 'POST', '/v1/patients/{id}/consents', p.id, { channel: 'email', status: 'granted', basis: 'consent', source: 'patient' });
  expect(await c.reminders.processReminder({ ...job, id: `reminder:${appt.id}:120`, data: { ...job.data, offsetMinutes: 120 } })).toMatchObject({ due: true });
  const again = (await rows()).find((r) => r.channel === 'email' && r.status === 'pending')!;
  expect(await c.sends.processNotificationSend({ ...send, id: again.id, data: { notificationId: again.id } })).toMatchObject({ status: 'sent' });
  expect(smtp.inbox.filter((m) => m.to === p.email)).toHaveLength(1);
});
