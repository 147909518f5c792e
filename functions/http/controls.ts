import { renewControlByHand } from '../../lib/domain/session-packages/renewal';
import { createControlSchema, listControlsSchema } from '../../lib/domain/session-packages/schemas';
import { createControl, getControl, listControls } from '../../lib/domain/session-packages/service';
import { json } from '../../lib/http/response';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { httpRouter } from '../../lib/http/routes/function';
import { idParam } from '../../lib/platform/validation/common';

/** POST /v1/controls: a patient's package of sessions. */
export const create = clinicRoute('write', { body: createControlSchema }, async ({ auth, body }) => {
  const control = await createControl(auth.clinicId, auth.timeZone, body);
  return json(201, control, { location: `/v1/controls/${control.id}` });
});

/** GET /v1/controls?patientId=&status=&cursor=&limit= */
export const list = clinicRoute('read', { query: listControlsSchema }, async ({ auth, query }) => json(200, await listControls(auth.clinicId, query)));

/** GET /v1/controls/{id}: with sessions used and remaining. */
export const get = clinicRoute('read', { path: idParam }, async ({ auth, path }) => json(200, await getControl(auth.clinicId, path.id)));

/**
 * POST /v1/controls/{id}/renew: renews a package by hand (next period, same quota, linked). 201 with
 * the new package; 409 when it was already renewed, with the successor's id in `details.successorId`.
 */
export const renew = clinicRoute('write', { path: idParam }, async ({ auth, path }) => {
  const control = await renewControlByHand(auth.clinicId, path.id);
  return json(201, control, { location: `/v1/controls/${control.id}` });
});

/** The controls function: every route of this area, picked by API Gateway route key. */
export const handler = httpRouter({
  'POST /v1/controls': create,
  'GET /v1/controls': list,
  'GET /v1/controls/{id}': get,
  'POST /v1/controls/{id}/renew': renew,
});
