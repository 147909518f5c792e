/**
 * Changing a clinic's reminder offsets (PATCH /v1/clinic) applies to its upcoming appointments: the
 * `clinic.updated` event, recorded with the change, re-syncs their reminders in the worker, and a
 * reminder already queued for an offset the clinic removed is skipped when it comes due.
 */
import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { eventLib, processPublishedEvents } from '../support/domain-events';
import { invoke } from '../support/invoke';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';

let pg: Client;
const lib = () => ({
  appointments: require('../../lib/appointments/service') as typeof import('../../lib/appointments/service'),
  processors: require('../../lib/outbox/processors') as typeof import('../../lib/outbox/processors'),
  reminders: require('../../lib/reminders/processor') as typeof import('../../lib/reminders/processor'),
  queues: require('../../lib/queues/queues') as typeof import('../../lib/queues/queues'),
  clinic: require('../../functions/http/clinic') as typeof import('../../functions/http/clinic'),
});

beforeAll(async () => {
  pg = new Client({ connectionString: TEST_DIRECT_DATABASE_URL });
  await pg.connect();
});
afterAll(async () => {
  const { queues } = lib();
  for (const q of [queues.getAgendaQueue, queues.getNotificationQueue, queues.getWebhookQueue]) await (await q()).obliterate({ force: true }).catch(() => undefined);
  await pg.end();
  await require('../../lib/lifecycle/close-all').closeAll();
});

const domainEvent = (eventId: string) =>
  ({ queue: 'agenda', name: 'domain.event', id: eventId, data: { eventId }, attemptsMade: 0, mode: 'inline' }) as const;

it('new offsets reach upcoming appointments; a removed offset\'s queued reminder is skipped', async () => {
  const c = await newClinic();
  const [pro, patient] = [await newProfessional(c.clinicId), await newPatient(c.clinicId)];
  const appt = await lib().appointments.createAppointment(
    { clinicId: c.clinicId, timeZone: 'America/Sao_Paulo' },
    { professionalId: pro.id, patientId: patient.id, startsAt: localAt(3, 10) },
  );
  await processPublishedEvents(eventLib(), appt.id); // the booking's reminders, as the worker syncs them
  const queue = await lib().queues.getAgendaQueue();
  const old = await queue.getJob(`reminder:${appt.id}:1440`);
  expect(old).toBeDefined();

  const res = await invoke(lib().clinic.update, {
    method: 'PATCH',
    path: '/v1/clinic',
    headers: c.auth.headers,
    body: { reminderOffsetsMinutes: [60, 120] },
  });
  expect(res.status).toBe(200);
  const { rows } = await pg.query<{ id: string; payload: Record<string, unknown> }>(
    "SELECT id, payload FROM outbox_events WHERE clinic_id = $1 AND type = 'clinic.updated'",
    [c.clinicId],
  );
  expect(rows).toEqual([{ id: expect.any(String), payload: { fields: 'reminderOffsetsMinutes', reminderOffsetsChanged: true } }]);

  await lib().processors.processDomainEvent(domainEvent(rows[0]!.id));
  const added = await queue.getJob(`reminder:${appt.id}:60`);
  expect(added?.data).toMatchObject({ appointmentId: appt.id, offsetMinutes: 60 });
  expect(await added!.getState()).toBe('delayed');

  // The 24 h reminder queued before the change comes due: the clinic no longer lists it.
  const outcome = await lib().reminders.processReminder({
    queue: 'agenda', name: 'appointment.reminder', id: old!.id!, data: old!.data, attemptsMade: 0, mode: 'inline',
  });
  expect(outcome).toMatchObject({ appointmentId: appt.id, offsetMinutes: 1440, skipped: 'offset_removed' });
  const notices = await pg.query("SELECT 1 FROM notifications WHERE appointment_id = $1 AND kind = 'reminder'", [appt.id]);
  expect(notices.rowCount).toBe(0);
});

it('a change that leaves the offsets as they were records so, and the worker re-syncs nothing', async () => {
  const c = await newClinic();
  const [pro, patient] = [await newProfessional(c.clinicId), await newPatient(c.clinicId)];
  const appt = await lib().appointments.createAppointment(
    { clinicId: c.clinicId, timeZone: 'America/Sao_Paulo' },
    { professionalId: pro.id, patientId: patient.id, startsAt: localAt(3, 10) },
  );
  await processPublishedEvents(eventLib(), appt.id);
  // A reminder job gone missing: a re-sync would put it back, so its absence shows none ran.
  const queue = await lib().queues.getAgendaQueue();
  await (await queue.getJob(`reminder:${appt.id}:120`))!.remove();

  await invoke(lib().clinic.update, { method: 'PATCH', path: '/v1/clinic', headers: c.auth.headers, body: { reminderOffsetsMinutes: [120, 1440], name: 'Renamed' } });
  const { rows } = await pg.query<{ id: string; payload: unknown }>("SELECT id, payload FROM outbox_events WHERE clinic_id = $1 AND type = 'clinic.updated'", [c.clinicId]);
  expect(rows).toEqual([{ id: expect.any(String), payload: { fields: 'name,reminderOffsetsMinutes', reminderOffsetsChanged: false } }]);
  await lib().processors.processDomainEvent(domainEvent(rows[0]!.id));
  expect(await queue.getJob(`reminder:${appt.id}:120`)).toBeUndefined();
});
