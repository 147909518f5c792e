import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/clinic-handler';
import { httpRouter } from '../../lib/http/handler';
import { pathId, pathParams, queryParams } from '../../lib/http/params';
import { json, noContent } from '../../lib/http/response';
import {
  addTimeOff,
  createProfessional,
  deleteTimeOff,
  getProfessional,
  getWorkingHours,
  listProfessionals,
  listTimeOff,
  replaceWorkingHours,
  updateProfessional,
} from '../../lib/scheduling/professionals';
import {
  createProfessionalBody,
  createTimeOffBody,
  listProfessionalsQuery,
  timeOffParams,
  updateProfessionalBody,
  workingHoursBody,
} from '../../lib/scheduling/schemas';


/** POST /v1/professionals */
export const create = clinicHandler(async (event, auth) =>
  json(201, await createProfessional(auth.clinicId, parseJsonBody(event, createProfessionalBody))),
);

/** GET /v1/professionals?limit=&cursor=&active=: `{ data, nextCursor }`, oldest first. */
export const list = clinicHandler(async (event, auth) =>
  json(200, await listProfessionals(auth.clinicId, queryParams(listProfessionalsQuery, event))),
);

/** GET /v1/professionals/{id} */
export const get = clinicHandler(async (event, auth) => json(200, await getProfessional(auth.clinicId, pathId(event))));

/** PATCH /v1/professionals/{id} */
export const update = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(200, await updateProfessional(auth.clinicId, id, parseJsonBody(event, updateProfessionalBody)));
});

/** GET /v1/professionals/{id}/working-hours: `{ timeZone, data: [{ weekday, start, end }] }` */
export const getHours = clinicHandler(async (event, auth) => json(200, await getWorkingHours(auth.clinicId, pathId(event))));

/** PUT /v1/professionals/{id}/working-hours: body is the whole weekly schedule, an array of intervals. */
export const putHours = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(200, await replaceWorkingHours(auth.clinicId, id, parseJsonBody(event, workingHoursBody, { expect: 'any' })));
});

/** POST /v1/professionals/{id}/time-off */
export const createTimeOff = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(201, await addTimeOff(auth.clinicId, id, parseJsonBody(event, createTimeOffBody)));
});

/** GET /v1/professionals/{id}/time-off: `{ data }`, earliest first. */
export const listTimeOffs = clinicHandler(async (event, auth) =>
  json(200, { data: await listTimeOff(auth.clinicId, pathId(event)) }),
);

/** DELETE /v1/professionals/{id}/time-off/{timeOffId} */
export const removeTimeOff = clinicHandler(async (event, auth) => {
  const { id, timeOffId } = pathParams(timeOffParams, event);
  await deleteTimeOff(auth.clinicId, id, timeOffId);
  return noContent();
});

/** The professionals function: every route of this area, picked by API Gateway route key. */
export const handler = httpRouter({
  'POST /v1/professionals': create,
  'GET /v1/professionals': list,
  'GET /v1/professionals/{id}': get,
  'PATCH /v1/professionals/{id}': update,
  'GET /v1/professionals/{id}/working-hours': getHours,
  'PUT /v1/professionals/{id}/working-hours': putHours,
  'POST /v1/professionals/{id}/time-off': createTimeOff,
  'GET /v1/professionals/{id}/time-off': listTimeOffs,
  'DELETE /v1/professionals/{id}/time-off/{timeOffId}': removeTimeOff,
});
