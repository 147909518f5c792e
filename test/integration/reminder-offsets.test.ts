/**
 * Changing a clinic's reminder offsets (PATCH /v1/clinic) applies to its upcoming appointments: the
 * `clinic.updated` event, recorded with the change, re-syncs their reminders in the worker, and a
 * reminder already queued for an offset the clinic removed is skipped when it comes due.
 */
import { newClinic } from '../support/clinic';
import { eventLib, processPublishedEvents } from '../support/domain-events';
import { invoke } from '../support/invoke';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

const suite = useSuite({
  pg: true,
  obliterateQueues: true,
  modules: {
    appointments: () => import('../../lib/domain/appointments/service'),
    processors: () => import('../../lib/jobs/processors/domain-event'),
    reminders: () => import('../../lib/jobs/processors/appointment-reminder'),
    queues: () => import('../../lib/platform/queues/queues'),
    clinic: () => import('../../functions/http/clinic'),
  },
});
const { appointments, processors, reminders, queues, clinic } = suite.m;

const domainEvent = (eventId: string) =>
  ({ queue: 'agenda', name: 'domain.event', id: eventId, data: { eventId }, attemptsMade: 0, mode: 'inline' }) as const;

it('new offsets reach upcoming appointments; a removed offset\'s queued reminder is skipped', async () => {
  const c = await newClinic();
  const [pro, patient] = [await newProfessional(c.clinicId), await newPatient(c.clinicId)];
  const appt = await appointments.createAppointment(
    { clinicId: c.clinicId, timeZone: 'America/Sao_Paulo' },
    { professionalId: pro.id, patientId: patient.id, startsAt: localAt(3, 10) },
  );
  await processPublishedEvents(eventLib(), appt.id); // the booking's reminders, as the worker syncs them
  const queue = await queues.getAgendaQueue();
  const old = await queue.getJob(`reminder:${appt.id}:1440`);
  expect(old).toBeDefined();

  const res = await invoke(clinic.update, {
    method: 'PATCH',
    path: '/v1/clinic',
    headers: c.auth.headers,
    body: { reminderOffsetsMinutes: [60, 120] },
  });
  expect(res.status).toBe(200);
  const { rows } = await suite.pg.query<{ id: string; payload: Record<string, unknown> }>(
    "SELECT id, payload FROM outbox_events WHERE clinic_id = $1 AND type = 'clinic.updated'",
    [c.clinicId],
  );
  expect(rows).toEqual([{ id: expect.any(String), payload: { fields: 'reminderOffsetsMinutes', reminderOffsetsChanged: true } }]);

  await processors.processDomainEvent(domainEvent(rows[0]!.id));
  const added = await queue.getJob(`reminder:${appt.id}:60`);
  expect(added?.data).toMatchObject({ appointmentId: appt.id, offsetMinutes: 60 });
  expect(await added!.getState()).toBe('delayed');

  // The 24 h reminder queued before the change comes due: the clinic no longer lists it.
  const outcome = await reminders.processReminder({
    queue: 'agenda', name: 'appointment.reminder', id: old!.id!, data: old!.data, attemptsMade: 0, mode: 'inline',
  });
  expect(outcome).toMatchObject({ appointmentId: appt.id, offsetMinutes: 1440, skipped: 'offset_removed' });
  const notices = await suite.pg.query("SELECT 1 FROM notifications WHERE appointment_id = $1 AND kind = 'reminder'", [appt.id]);
  expect(notices.rowCount).toBe(0);
});

it('a change that leaves the offsets as they were records so, and the worker re-syncs nothing', async () => {
  const c = await newClinic();
  const [pro, patient] = [await newProfessional(c.clinicId), await newPatient(c.clinicId)];
  const appt = await appointments.createAppointment(
    { clinicId: c.clinicId, timeZone: 'America/Sao_Paulo' },
    { professionalId: pro.id, patientId: patient.id, startsAt: localAt(3, 10) },
  );
  await processPublishedEvents(eventLib(), appt.id);
  // A reminder job gone missing: a re-sync would put it back, so its absence shows none ran.
  const queue = await queues.getAgendaQueue();
  await (await queue.getJob(`reminder:${appt.id}:120`))!.remove();

  await invoke(clinic.update, { method: 'PATCH', path: '/v1/clinic', headers: c.auth.headers, body: { reminderOffsetsMinutes: [120, 1440], name: 'Renamed' } });
  const { rows } = await suite.pg.query<{ id: string; payload: unknown }>("SELECT id, payload FROM outbox_events WHERE clinic_id = $1 AND type = 'clinic.updated'", [c.clinicId]);
  expect(rows).toEqual([{ id: expect.any(String), payload: { fields: 'name,reminderOffsetsMinutes', reminderOffsetsChanged: false } }]);
  await processors.processDomainEvent(domainEvent(rows[0]!.id));
  expect(await queue.getJob(`reminder:${appt.id}:120`)).toBeUndefined();
});
