/**
 * In-app notices go out live: a reminder coming due and a renewal request reach the
 * sockets already subscribed, as appointment events' notices do, instead of waiting for the next
 * subscribe; and an appointment's event never pushes a notice its appointment made untrue since
 * (a confirmation or reminder of a cancelled or moved appointment: skipped with the reason). Run
 * through the worker's own processors; the Management API is a local stand-in (AWS is the one
 * thing faked).
 */
import { newClinic } from '../support/clinic';
import { startFakeManagementApi, type FakeManagementApi } from '../support/management-api';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { newSocketRow } from '../support/socket-rows';
import { useSuite } from '../support/suite';

const suite = useSuite({
  env: { AGENDA_PROFILE: 'worker' },
  modules: {
    appointments: () => import('../../lib/domain/appointments/service'),
    processors: () => import('../../lib/jobs/processors/domain-event'),
    reminders: () => import('../../lib/jobs/processors/appointment-reminder'),
    db: () => import('../../lib/platform/db/client'),
  },
  pg: true,
  obliterateQueues: true,
});
const { appointments, processors, reminders, db: dbClient } = suite.m;
let api: FakeManagementApi;

beforeAll(async () => {
  api = await startFakeManagementApi();
});
afterAll(() => api.close());

beforeEach(() => api.reset());

const ZONE = 'America/Sao_Paulo';

async function setup() {
  const clinic = await newClinic(ZONE);
  const db = await dbClient.getDb();
  const [proA, proB] = [await newProfessional(clinic.clinicId), await newProfessional(clinic.clinicId)];
  const patient = await newPatient(clinic.clinicId);
  const key = await db.apiKey.findFirstOrThrow({ where: { clinicId: clinic.clinicId } });
  const scope = { clinicId: clinic.clinicId, timeZone: ZONE };
  /** A socket row as $connect and subscribe leave it (no backlog delivered), pushing to the stand-in. */
  const socket = (subscription: string) => newSocketRow({ clinicId: clinic.clinicId, apiKeyId: key.id, endpoint: api.endpoint, scope: subscription });
  const book = (startsAt = localAt(3, 14, 30)) => appointments.createAppointment(scope, { professionalId: proA.id, patientId: patient.id, startsAt });
  return { clinicId: clinic.clinicId, scope, db, proA, proB, patient, socket, book };
}

/** The notices a socket was pushed (the appointment and slots messages left out). */
const noticesTo = (connectionId: string) =>
  api.posted(connectionId).filter((m) => m.type === 'notification') as { notificationId: string; kind: string; appointmentId: string | null; controlId: string | null }[];

type Row = { id: string; kind: string; status: string; skip_reason: string | null; attempts: number };
async function inApp(column: 'appointment_id' | 'control_id', id: string, kind: string): Promise<Row> {
  const { rows } = await suite.pg.query<Row>(`SELECT id, kind, status, skip_reason, attempts FROM notifications WHERE ${column} = $1 AND kind = $2 AND channel = 'in_app'`, [id, kind]);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function processEvent(aggregateId: string, type: string) {
  const { rows } = await suite.pg.query<{ id: string }>('SELECT id FROM outbox_events WHERE aggregate_id = $1 AND type = $2', [aggregateId, type]);
  expect(rows).toHaveLength(1);
  await processors.processDomainEvent({ queue: 'agenda', name: 'domain.event', id: rows[0]!.id, data: { eventId: rows[0]!.id }, attemptsMade: 0, mode: 'inline' });
}

const reminderJob = (appointmentId: string, startsAt: Date | string, offsetMinutes = 1440) =>
  ({
    queue: 'agenda',
    name: 'appointment.reminder',
    id: `reminder:${appointmentId}:${offsetMinutes}`,
    data: { appointmentId, offsetMinutes, startsAt: new Date(startsAt).toISOString() },
    attemptsMade: 0,
    mode: 'inline',
  }) as const;

it("a reminder coming due reaches the sockets already subscribed to its clinic or professional, once", async () => {
  const s = await setup();
  const appt = await s.book();
  const [mine, whole, others] = [await s.socket(s.proA.id), await s.socket('clinic'), await s.socket(s.proB.id)];

  expect(await reminders.processReminder(reminderJob(appt.id, appt.startsAt))).toMatchObject({ due: true });
  const reminder = await inApp('appointment_id', appt.id, 'reminder');
  const expected = [{ type: 'notification', notificationId: reminder.id, kind: 'reminder', appointmentId: appt.id, controlId: null }];
  expect(noticesTo(mine)).toEqual(expected);
  expect(noticesTo(whole)).toEqual(expected);
  expect(noticesTo(others)).toEqual([]);
  expect(reminder).toMatchObject({ status: 'sent', attempts: 1 });

  // The job again (at least once): nothing pushed twice.
  await reminders.processReminder(reminderJob(appt.id, appt.startsAt));
  expect(noticesTo(mine)).toHaveLength(1);
});

it("a renewal request reaches the control's professional's and the clinic's sockets; a control without one, the clinic's", async () => {
  const s = await setup();
  const [mine, whole, others] = [await s.socket(s.proA.id), await s.socket('clinic'), await s.socket(s.proB.id)];
  const request = async (professionalId: string | null) => {
    const control = await s.db.appointmentControl.create({
      data: { clinicId: s.clinicId, patientId: s.patient.id, professionalId, sessionsTotal: 4, sessionsUsed: 4, validUntil: new Date(Date.now() + 7 * 86_400_000), status: 'exhausted' },
    });
    const req = await s.db.renewalRequest.create({ data: { clinicId: s.clinicId, controlId: control.id, reason: 'exhausted' } });
    await s.db.outboxEvent.create({
      data: { clinicId: s.clinicId, type: 'control.renewal_requested', aggregateId: control.id, payload: { controlId: control.id, requestId: req.id, patientId: s.patient.id, reason: 'exhausted' } },
    });
    await processEvent(control.id, 'control.renewal_requested');
    return { control, notice: await inApp('control_id', control.id, 'renewal') };
  };

  const withPro = await request(s.proA.id);
  const pushed = { type: 'notification', notificationId: withPro.notice.id, kind: 'renewal', appointmentId: null, controlId: withPro.control.id };
  expect(noticesTo(mine)).toEqual([pushed]);
  expect(noticesTo(whole)).toEqual([pushed]);
  expect(noticesTo(others)).toEqual([]);
  expect(withPro.notice).toMatchObject({ status: 'sent', attempts: 1 });

  const clinicWide = await request(null);
  expect(noticesTo(whole).map((m) => m.notificationId)).toEqual([withPro.notice.id, clinicWide.notice.id]);
  expect(noticesTo(mine)).toHaveLength(1);
  expect(noticesTo(others)).toEqual([]);
  expect(clinicWide.notice).toMatchObject({ status: 'sent' });
});

it('a cancellation pushes the cancellation notice, never the confirmation or reminder made before it', async () => {
  const s = await setup();
  const appt = await s.book();
  // Made while nobody listened: both wait, pending.
  await processEvent(appt.id, 'appointment.created');
  await reminders.processReminder(reminderJob(appt.id, appt.startsAt));
  const whole = await s.socket('clinic');

  await appointments.transitionAppointment(s.scope, appt.id, 'cancelled', 'patient asked');
  await processEvent(appt.id, 'appointment.cancelled');
  const cancellation = await inApp('appointment_id', appt.id, 'cancellation');
  expect(noticesTo(whole).map((m) => [m.kind, m.notificationId])).toEqual([['cancellation', cancellation.id]]);
  expect(cancellation).toMatchObject({ status: 'sent' });
  for (const kind of ['confirmation', 'reminder']) expect(await inApp('appointment_id', appt.id, kind)).toMatchObject({ status: 'skipped', skip_reason: 'not_active', attempts: 0 });
});

it('a reschedule pushes the reschedule notice, never the confirmation or reminder for the old time', async () => {
  const s = await setup();
  const appt = await s.book();
  await processEvent(appt.id, 'appointment.created');
  await reminders.processReminder(reminderJob(appt.id, appt.startsAt));
  const whole = await s.socket('clinic');

  await appointments.rescheduleAppointment(s.scope, appt.id, { startsAt: localAt(5, 11) });
  await processEvent(appt.id, 'appointment.rescheduled');
  const reschedule = await inApp('appointment_id', appt.id, 'reschedule');
  expect(noticesTo(whole).map((m) => [m.kind, m.notificationId])).toEqual([['reschedule', reschedule.id]]);
  for (const kind of ['confirmation', 'reminder']) expect(await inApp('appointment_id', appt.id, kind)).toMatchObject({ status: 'skipped', skip_reason: 'moved', attempts: 0 });
});
