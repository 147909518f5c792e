import { createControlSchema, listControlsSchema } from '../../lib/controls/schemas';
import { createControl, getControl, listControls } from '../../lib/controls/service';
import { ConflictError } from '../../lib/errors/app-error';
import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/clinic-handler';
import { httpRouter } from '../../lib/http/handler';
import { pathId, queryParams } from '../../lib/http/params';
import { json } from '../../lib/http/response';
import { renewControl } from '../../lib/renewals/service';

/** POST /v1/controls: a patient's package of sessions. */
export const create = clinicHandler(async (event, auth) => {
  const input = parseJsonBody(event, createControlSchema);
  const control = await createControl(auth.clinicId, auth.timeZone, input);
  return json(201, control, { location: `/v1/controls/${control.id}` });
});

/** GET /v1/controls?patientId=&status=&cursor=&limit= */
export const list = clinicHandler(async (event, auth) => {
  const q = queryParams(listControlsSchema, event);
  return json(200, await listControls(auth.clinicId, q));
});

/** GET /v1/controls/{id}: with sessions used and remaining. */
export const get = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(200, await getControl(auth.clinicId, id));
});

/**
 * POST /v1/controls/{id}/renew: renews a package by hand (next period, same quota, linked). 201 with
 * the new package; 409 when it was already renewed, with the successor's id in `details.successorId`.
 */
export const renew = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  const result = await renewControl(auth.clinicId, id, { by: 'manual' });
  if (!result.created) {
    throw new ConflictError('The control was already renewed', { controlId: id, successorId: result.control.id });
  }
  return json(201, result.control, { location: `/v1/controls/${result.control.id}` });
});

/** The controls function: every route of this area, picked by API Gateway route key. */
export const handler = httpRouter({
  'POST /v1/controls': create,
  'GET /v1/controls': list,
  'GET /v1/controls/{id}': get,
  'POST /v1/controls/{id}/renew': renew,
});
