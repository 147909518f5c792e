/**
 * Notifications: domain events and due reminders record one notice per channel
 * (unique dedupe key) and enqueue `notification.send` {notificationId}; the send processor mails it
 * through a real SMTP server (smtp-server, started here on a free 127.0.0.1 port, behind a TCP
 * proxy so the test can take it down), parsed with mailparser.
 */
import { DateTime } from 'luxon';
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { localAt, newProfessional } from '../support/scheduling-fixtures';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { useSuite } from '../support/suite';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const suite = useSuite({
  // SMTP_URL names the proxy's port, known once it listens: set below, then the container reloaded.
  env: { AGENDA_PROFILE: 'worker', SMTP_URL: undefined, SMTP_FROM: 'Agenda Test <agenda@test.local>', SMTP_TIMEOUT_MS: '2000' },
  modules: {
    appointments: () => import('../../lib/domain/appointments/service'),
    processors: () => import('../../lib/jobs/processors/domain-event'),
    reminders: () => import('../../lib/jobs/processors/appointment-reminder'),
    notifications: () => import('../../lib/jobs/processors/notification-send'),
    queues: () => import('../../lib/platform/queues/queues'),
    db: () => import('../../lib/platform/db/client'),
  },
  pg: true,
  obliterateQueues: true,
});
const c = suite.m;
let smtp: SmtpSink;
let proxy: TcpProxy;

beforeAll(async () => {
  smtp = await startSmtpSink();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: smtp.port });
  process.env.SMTP_URL = `smtp://127.0.0.1:${proxy.port}`;
  await suite.reload();
});

afterAll(async () => {
  await proxy.close();
  await smtp.close();
});

const ZONE = 'America/Sao_Paulo';

async function setup(patient: { locale?: string; notifyEmail?: boolean; notifyInApp?: boolean } = {}) {
  const clinic = await newClinic(ZONE);
  const pro = await newProfessional(clinic.clinicId);
  const db = await c.db.getDb();
  const email = `patient-${randomUUID().slice(0, 8)}@example.com`;
  const p = await db.patient.create({ data: { clinicId: clinic.clinicId, name: 'Maria Silva', email, ...patient } });
  const { name: clinicName } = await db.clinic.findUniqueOrThrow({ where: { id: clinic.clinicId }, select: { name: true } });
  return { scope: { clinicId: clinic.clinicId, timeZone: ZONE }, pro, patient: p, email, clinicName };
}

const mailTo = (email: string) => smtp.inbox.filter((m) => m.to === email);

async function eventOf(aggregateId: string, type: string) {
  const { rows } = await suite.pg.query<{ id: string }>('SELECT id FROM outbox_events WHERE aggregate_id = $1 AND type = $2', [aggregateId, type]);
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

const domainJob = (eventId: string) =>
  ({ queue: 'agenda', name: 'domain.event', id: eventId, data: { eventId }, attemptsMade: 0, mode: 'inline' }) as const;
const sendJob = (notificationId: string, attemptsMade = 0) =>
  ({ queue: 'notification', name: 'notification.send', id: notificationId, data: { notificationId }, attemptsMade, mode: 'inline' }) as const;

type Row = { id: string; kind: string; channel: string; status: string; skip_reason: string | null; attempts: number; last_error: string | null; sent_at: Date | null; dedupe_key: string };
async function notificationsOf(appointmentId: string): Promise<Row[]> {
  const { rows } = await suite.pg.query<Row>(
    'SELECT id, kind, channel, status, skip_reason, attempts, last_error, sent_at, dedupe_key FROM notifications WHERE appointment_id = $1 ORDER BY created_at, channel',
    [appointmentId],
  );
  return rows;
}
const emailRow = async (appointmentId: string, kind: string) => (await notificationsOf(appointmentId)).find((r) => r.kind === kind && r.channel === 'email')!;

/** Processes an event as the `domain.event` worker job would (the sends are driven by each test). */
async function processEvent(eventId: string) {
  await c.processors.processDomainEvent(domainJob(eventId));
}

async function book(s: Awaited<ReturnType<typeof setup>>, startsAt = localAt(3, 14, 30)) {
  const appt = await c.appointments.createAppointment(s.scope, { professionalId: s.pro.id, patientId: s.patient.id, startsAt });
  return { appt, startsAt };
}

it('booking: a pt-BR patient gets the confirmation in Portuguese, in the clinic zone; recorded sent; the job carries the id only', async () => {
  const s = await setup();
  const { appt, startsAt } = await book(s);
  await processEvent(await eventOf(appt.id, 'appointment.created'));

  const rows = await notificationsOf(appt.id);
  expect(rows.map((r) => [r.kind, r.channel, r.status])).toEqual([
    ['confirmation', 'email', 'pending'],
    ['confirmation', 'in_app', 'pending'],
  ]);
  const row = rows[0]!;
  expect(row.dedupe_key).toBe(`confirmation:${appt.id}:email:${new Date(startsAt).toISOString()}`);
  const job = await (await c.queues.getNotificationQueue()).getJob(row.id);
  expect(job).toMatchObject({ name: 'notification.send' });
  expect(job!.data).toEqual({ notificationId: row.id });

  expect(await c.notifications.processNotificationSend(sendJob(row.id))).toEqual({ notificationId: row.id, status: 'sent' });
  const [m] = mailTo(s.email);
  expect(mailTo(s.email)).toHaveLength(1);
  const when = DateTime.fromISO(startsAt).setZone(ZONE).setLocale('pt-BR').toFormat("cccc, d 'de' LLLL 'de' yyyy 'às' HH:mm");
  expect(when).toMatch(/-feira|sábado|domingo/);
  expect(when).toContain('às 14:30');
  expect(m!.mail.subject).toBe(`Consulta agendada: ${when}`);
  expect(m!.mail.text).toContain('Olá, Maria Silva.');
  expect(m!.mail.text).toContain(`Sua consulta com Dr. Test na ${s.clinicName} está agendada para ${when}.`);
  expect(m!.mail.html).toContain('<p>Olá, Maria Silva.</p>');
  expect(m!.mail.from?.text).toContain('agenda@test.local');
  expect(m!.mail.messageId).toBe(`<${row.id}@agenda.notifications>`);

  const after = await emailRow(appt.id, 'confirmation');
  expect(after).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
  expect(after.sent_at).toBeInstanceOf(Date);
});

it('an English-speaking patient gets the confirmation in English', async () => {
  const s = await setup({ locale: 'en' });
  const { appt, startsAt } = await book(s, localAt(4, 9, 0));
  await processEvent(await eventOf(appt.id, 'appointment.created'));
  const row = await emailRow(appt.id, 'confirmation');
  await c.notifications.processNotificationSend(sendJob(row.id));
  const [m] = mailTo(s.email);
  const when = DateTime.fromISO(startsAt).setZone(ZONE).setLocale('en').toFormat("cccc, LLLL d, yyyy 'at' h:mm a");
  expect(m!.mail.subject).toBe(`Appointment booked: ${when}`);
  expect(m!.mail.text).toContain(`Your appointment with Dr. Test at ${s.clinicName} is booked for ${when}.`);
  expect(m!.mail.text).toContain('at 9:00 AM');
});

it('the same event processed twice (and its send run twice) records one notice and sends one e-mail', async () => {
  const s = await setup();
  const { appt } = await book(s);
  const eventId = await eventOf(appt.id, 'appointment.created');
  await processEvent(eventId);
  await processEvent(eventId);
  const rows = await notificationsOf(appt.id);
  expect(rows).toHaveLength(2); // one e-mail, one in-app
  const row = rows.find((r) => r.channel === 'email')!;
  await c.notifications.processNotificationSend(sendJob(row.id));
  expect(await c.notifications.processNotificationSend(sendJob(row.id))).toEqual({ notificationId: row.id, already: 'sent' });
  await processEvent(eventId); // a late redelivery after the send
  expect(mailTo(s.email)).toHaveLength(1);
  expect(await notificationsOf(appt.id)).toHaveLength(2);
  const jobs = await (await c.queues.getNotificationQueue()).getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  expect(jobs.filter((j) => (j?.data as { notificationId?: string }).notificationId === row.id)).toHaveLength(1);
});

it('reschedule: the old reminder never mails; a reminder recorded before the move is skipped as moved', async () => {
  const s = await setup();
  const { appt, startsAt } = await book(s);
  const oldIso = new Date(startsAt).toISOString();
  const reminderJob = (offsetMinutes: number) =>
    ({ queue: 'agenda', name: 'appointment.reminder', id: `reminder:${appt.id}:${offsetMinutes}`, data: { appointmentId: appt.id, offsetMinutes, startsAt: oldIso }, attemptsMade: 0, mode: 'inline' }) as const;

  // The 24 h reminder came due (and recorded its notice) just before the appointment was moved.
  const due = await c.reminders.processReminder(reminderJob(1440));
  expect(due).toMatchObject({ due: true, notifications: [expect.any(String)] });
  await c.appointments.rescheduleAppointment(s.scope, appt.id, { startsAt: localAt(5, 11) });
  await processEvent(await eventOf(appt.id, 'appointment.rescheduled'));

  // The old 2 h reminder job fires anyway (a failed removal): skipped, no notice recorded.
  expect(await c.reminders.processReminder(reminderJob(120))).toMatchObject({ skipped: 'moved' });
  const reminders = (await notificationsOf(appt.id)).filter((r) => r.kind === 'reminder' && r.channel === 'email');
  expect(reminders).toHaveLength(1);
  expect(await c.notifications.processNotificationSend(sendJob(reminders[0]!.id))).toMatchObject({ status: 'skipped', reason: 'moved' });
  expect(await emailRow(appt.id, 'reminder')).toMatchObject({ status: 'skipped', skip_reason: 'moved', attempts: 0 });

  // The reschedule notice itself goes out, with the new time.
  const resched = await emailRow(appt.id, 'reschedule');
  await c.notifications.processNotificationSend(sendJob(resched.id));
  const mails = mailTo(s.email);
  expect(mails.map((m) => m.mail.subject)).toEqual([expect.stringMatching(/^Consulta remarcada: .* às 11:00$/)]);
  expect(mails.some((m) => /Lembrete/.test(m.mail.subject ?? ''))).toBe(false);
});

it('a due reminder for a current appointment mails once', async () => {
  const s = await setup();
  const { appt, startsAt } = await book(s);
  const job = { queue: 'agenda', name: 'appointment.reminder', id: 'r', data: { appointmentId: appt.id, offsetMinutes: 1440, startsAt: new Date(startsAt).toISOString() }, attemptsMade: 0, mode: 'inline' } as const;
  const first = await c.reminders.processReminder(job);
  const again = await c.reminders.processReminder(job);
  expect(again).toEqual(first);
  const row = await emailRow(appt.id, 'reminder');
  await c.notifications.processNotificationSend(sendJob(row.id));
  const [m] = mailTo(s.email);
  expect(mailTo(s.email)).toHaveLength(1);
  expect(m!.mail.subject).toMatch(/^Lembrete: consulta .* às 14:30$/);
  expect(m!.mail.text).toContain('(em 1 dia)');
});

it('cancel: the cancellation e-mail is sent', async () => {
  const s = await setup();
  const { appt } = await book(s);
  await c.appointments.transitionAppointment(s.scope, appt.id, 'cancelled', 'patient asked');
  await processEvent(await eventOf(appt.id, 'appointment.cancelled'));
  const row = await emailRow(appt.id, 'cancellation');
  expect(await c.notifications.processNotificationSend(sendJob(row.id))).toMatchObject({ status: 'sent' });
  const [m] = mailTo(s.email);
  expect(m!.mail.subject).toMatch(/^Consulta cancelada: .* às 14:30$/);
  expect(m!.mail.text).toContain('foi cancelada');
  // The confirmation of the now-cancelled appointment, if still queued, is not sent.
  await processEvent(await eventOf(appt.id, 'appointment.created'));
  expect(await c.notifications.processNotificationSend(sendJob((await emailRow(appt.id, 'confirmation')).id))).toMatchObject({ reason: 'not_active' });
  expect(mailTo(s.email)).toHaveLength(1);
});

it('a patient with notifyEmail false gets no e-mail: the notice is recorded skipped and nothing is enqueued', async () => {
  const s = await setup({ notifyEmail: false, notifyInApp: false });
  const { appt } = await book(s);
  await processEvent(await eventOf(appt.id, 'appointment.created'));
  const rows = await notificationsOf(appt.id);
  expect(rows.map((r) => [r.channel, r.status, r.skip_reason])).toEqual([
    ['email', 'skipped', 'opted_out'],
    ['in_app', 'skipped', 'opted_out'],
  ]);
  expect(await (await c.queues.getNotificationQueue()).getJob(rows[0]!.id)).toBeUndefined();
  expect(await c.notifications.processNotificationSend(sendJob(rows[0]!.id))).toEqual({ notificationId: rows[0]!.id, already: 'skipped' });
  expect(mailTo(s.email)).toHaveLength(0);
});

it('SMTP down: the attempt is recorded failed and the job throws (BullMQ retries); the retry sends it', async () => {
  const s = await setup();
  const { appt } = await book(s);
  await processEvent(await eventOf(appt.id, 'appointment.created'));
  const row = await emailRow(appt.id, 'confirmation');
  await proxy.down();
  try {
    await expect(c.notifications.processNotificationSend(sendJob(row.id))).rejects.toThrow();
    const failed = await emailRow(appt.id, 'confirmation');
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, sent_at: null });
    expect(failed.last_error).toEqual(expect.any(String));
    expect(failed.last_error).not.toContain(s.email);
  } finally {
    await proxy.up();
  }
  expect(mailTo(s.email)).toHaveLength(0);
  expect(await c.notifications.processNotificationSend(sendJob(row.id, 1))).toMatchObject({ status: 'sent' });
  expect(await emailRow(appt.id, 'confirmation')).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
  expect(mailTo(s.email)).toHaveLength(1);
});

it('control.renewal_requested: the patient gets the renewal notice with the package usage and end date', async () => {
  const s = await setup();
  const db = await c.db.getDb();
  const validUntil = new Date(Date.now() + 3 * 86_400_000);
  const control = await db.appointmentControl.create({
    data: { clinicId: s.scope.clinicId, patientId: s.patient.id, professionalId: s.pro.id, sessionsTotal: 10, sessionsUsed: 10, validUntil, status: 'exhausted' },
  });
  const request = await db.renewalRequest.create({ data: { clinicId: s.scope.clinicId, controlId: control.id, reason: 'exhausted' } });
  const event = await db.outboxEvent.create({
    data: { clinicId: s.scope.clinicId, type: 'control.renewal_requested', aggregateId: control.id, payload: { controlId: control.id, requestId: request.id, patientId: s.patient.id, reason: 'exhausted' } },
  });
  await processEvent(event.id);
  await processEvent(event.id);
  const { rows } = await suite.pg.query<Row>("SELECT id, status, dedupe_key FROM notifications WHERE control_id = $1 AND channel = 'email'", [control.id]);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.dedupe_key).toBe(`renewal:${control.id}:email:${request.id}`);
  expect(await c.notifications.processNotificationSend(sendJob(rows[0]!.id))).toMatchObject({ status: 'sent' });
  const [m] = mailTo(s.email);
  expect(m!.mail.subject).toBe(`Renovação do seu pacote de sessões na ${s.clinicName}`);
  expect(m!.mail.text).toContain('Seu pacote de sessões com Dr. Test precisa ser renovado (10/10 sessões usadas, válido até ');
});
