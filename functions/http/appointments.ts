import { z } from 'zod';
import {
  createAppointment,
  getAppointment,
  listAppointments,
  rescheduleAppointment,
  transitionAppointment,
} from '../../lib/domain/appointments/service';
import { cancelSchema, createAppointmentSchema, listAppointmentsSchema, rescheduleSchema } from '../../lib/domain/appointments/schemas';
import { json } from '../../lib/http/response';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { httpRouter } from '../../lib/http/routes/function';
import { idParam } from '../../lib/platform/validation/common';

/** What the appointment services are scoped by; the API key's id stays at the edge. */
const scopeOf = (auth: { clinicId: string; timeZone: string }) => ({ clinicId: auth.clinicId, timeZone: auth.timeZone });

/** POST /v1/appointments: books; 201, 409 when the slot is taken, 422 when a rule refuses it. */
export const create = clinicRoute('write', { body: createAppointmentSchema }, async ({ auth, body }) => {
  const appointment = await createAppointment(scopeOf(auth), body);
  return json(201, appointment, { location: `/v1/appointments/${appointment.id}` });
});

/** GET /v1/appointments?professionalId=&patientId=&status=&from=&to=&cursor=&limit= */
export const list = clinicRoute('read', { query: listAppointmentsSchema }, async ({ auth, query }) =>
  json(200, await listAppointments(scopeOf(auth), query)),
);

/** GET /v1/appointments/{id}: with its history. */
export const get = clinicRoute('read', { path: idParam }, async ({ auth, path }) => json(200, await getAppointment(scopeOf(auth), path.id)));

/** POST /v1/appointments/{id}/reschedule {startsAt, durationMinutes?} */
export const reschedule = clinicRoute('write', { path: idParam, body: rescheduleSchema }, async ({ auth, path, body }) =>
  json(200, await rescheduleAppointment(scopeOf(auth), path.id, body)),
);

/** POST /v1/appointments/{id}/cancel {reason}: gives the control's session back. */
export const cancel = clinicRoute('write', { path: idParam, body: cancelSchema }, async ({ auth, path, body }) =>
  json(200, await transitionAppointment(scopeOf(auth), path.id, 'cancelled', body.reason)),
);

/** The transitions without a body still refuse one that is not `{}`. */
const noBody = { path: idParam, body: z.strictObject({}) };

/** POST /v1/appointments/{id}/confirm */
export const confirm = clinicRoute('write', noBody, async ({ auth, path }) => json(200, await transitionAppointment(scopeOf(auth), path.id, 'confirmed')));

/** POST /v1/appointments/{id}/complete */
export const complete = clinicRoute('write', noBody, async ({ auth, path }) => json(200, await transitionAppointment(scopeOf(auth), path.id, 'completed')));

/** POST /v1/appointments/{id}/no-show */
export const noShow = clinicRoute('write', noBody, async ({ auth, path }) => json(200, await transitionAppointment(scopeOf(auth), path.id, 'no_show')));

/** The appointments function: every route of this area, picked by API Gateway route key. */
export const handler = httpRouter({
  'POST /v1/appointments': create,
  'GET /v1/appointments': list,
  'GET /v1/appointments/{id}': get,
  'POST /v1/appointments/{id}/reschedule': reschedule,
  'POST /v1/appointments/{id}/cancel': cancel,
  'POST /v1/appointments/{id}/confirm': confirm,
  'POST /v1/appointments/{id}/complete': complete,
  'POST /v1/appointments/{id}/no-show': noShow,
});
