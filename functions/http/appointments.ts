import { z } from 'zod';
import {
  createAppointment,
  getAppointment,
  listAppointments,
  rescheduleAppointment,
  transitionAppointment,
} from '../../lib/appointments/service';
import { cancelSchema, createAppointmentSchema, listAppointmentsSchema, rescheduleSchema } from '../../lib/appointments/schemas';
import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/clinic-handler';
import { httpRouter } from '../../lib/http/handler';
import { pathId, queryParams } from '../../lib/http/params';
import { json } from '../../lib/http/response';

const scopeOf = (auth: { clinicId: string; timeZone: string }) => ({ clinicId: auth.clinicId, timeZone: auth.timeZone });

/** POST /v1/appointments: books; 201, 409 when the slot is taken, 422 when a rule refuses it. */
export const create = clinicHandler(async (event, auth) => {
  const input = parseJsonBody(event, createAppointmentSchema);
  const appointment = await createAppointment(scopeOf(auth), input);
  return json(201, appointment, { location: `/v1/appointments/${appointment.id}` });
});

/** GET /v1/appointments?professionalId=&patientId=&status=&from=&to=&cursor=&limit= */
export const list = clinicHandler(async (event, auth) => {
  const q = queryParams(listAppointmentsSchema, event);
  return json(200, await listAppointments(scopeOf(auth), q));
});

/** GET /v1/appointments/{id}: with its history. */
export const get = clinicHandler(async (event, auth) => json(200, await getAppointment(scopeOf(auth), pathId(event))));

/** POST /v1/appointments/{id}/reschedule {startsAt, durationMinutes?} */
export const reschedule = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  const input = parseJsonBody(event, rescheduleSchema);
  return json(200, await rescheduleAppointment(scopeOf(auth), id, input));
});

/** POST /v1/appointments/{id}/cancel {reason}: gives the control's session back. */
export const cancel = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  const { reason } = parseJsonBody(event, cancelSchema);
  return json(200, await transitionAppointment(scopeOf(auth), id, 'cancelled', reason));
});

const empty = z.strictObject({});

/** POST /v1/appointments/{id}/confirm */
export const confirm = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  parseJsonBody(event, empty);
  return json(200, await transitionAppointment(scopeOf(auth), id, 'confirmed'));
});

/** POST /v1/appointments/{id}/complete */
export const complete = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  parseJsonBody(event, empty);
  return json(200, await transitionAppointment(scopeOf(auth), id, 'completed'));
});

/** POST /v1/appointments/{id}/no-show */
export const noShow = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  parseJsonBody(event, empty);
  return json(200, await transitionAppointment(scopeOf(auth), id, 'no_show'));
});

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
