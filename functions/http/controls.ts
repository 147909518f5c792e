import { createControlSchema, listControlsSchema } from '../../lib/controls/schemas';
import { createControl, getControl, listControls } from '../../lib/controls/service';
import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { idParam } from '../../lib/validation/common';
import { validate } from '../../lib/validation/validate';

/** POST /v1/controls: a patient's package of sessions. */
export const create = clinicHandler(async (event, auth) => {
  const input = parseJsonBody(event, createControlSchema);
  const control = await createControl(auth.clinicId, auth.timeZone, input);
  return json(201, control, { location: `/v1/controls/${control.id}` });
});

/** GET /v1/controls?patientId=&status=&cursor=&limit= */
export const list = clinicHandler(async (event, auth) => {
  const q = validate(listControlsSchema, event.queryStringParameters ?? {}, 'query');
  return json(200, await listControls(auth.clinicId, q));
});

/** GET /v1/controls/{id}: with sessions used and remaining. */
export const get = clinicHandler(async (event, auth) => {
  const { id } = validate(idParam, event.pathParameters ?? {}, 'path');
  return json(200, await getControl(auth.clinicId, id));
});
