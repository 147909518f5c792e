import {
  createProfessionalBody,
  createTimeOffBody,
  listProfessionalsQuery,
  timeOffParams,
  updateProfessionalBody,
  workingHoursBody,
} from '../../lib/domain/professionals/schemas';
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
} from '../../lib/domain/professionals/service';
import { json, noContent } from '../../lib/http/response';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { httpRouter } from '../../lib/http/routes/function';
import { idParam } from '../../lib/platform/validation/common';

/** POST /v1/professionals */
export const create = clinicRoute('write', { body: createProfessionalBody }, async ({ auth, body }) =>
  json(201, await createProfessional(auth.clinicId, body)),
);

/** GET /v1/professionals?limit=&cursor=&active=: `{ data, nextCursor }`, oldest first. */
export const list = clinicRoute('read', { query: listProfessionalsQuery }, async ({ auth, query }) =>
  json(200, await listProfessionals(auth.clinicId, query)),
);

/** GET /v1/professionals/{id} */
export const get = clinicRoute('read', { path: idParam }, async ({ auth, path }) => json(200, await getProfessional(auth.clinicId, path.id)));

/** PATCH /v1/professionals/{id} */
export const update = clinicRoute('write', { path: idParam, body: updateProfessionalBody }, async ({ auth, path, body }) =>
  json(200, await updateProfessional(auth.clinicId, path.id, body)),
);

/** GET /v1/professionals/{id}/working-hours: `{ timeZone, data: [{ weekday, start, end }] }` */
export const getHours = clinicRoute('read', { path: idParam }, async ({ auth, path }) => json(200, await getWorkingHours(auth.clinicId, path.id)));

/** PUT /v1/professionals/{id}/working-hours: body is the whole weekly schedule, an array of intervals. */
export const putHours = clinicRoute('write', { path: idParam, body: workingHoursBody, json: { expect: 'any' } }, async ({ auth, path, body }) =>
  json(200, await replaceWorkingHours(auth.clinicId, path.id, body)),
);

/** POST /v1/professionals/{id}/time-off */
export const createTimeOff = clinicRoute('write', { path: idParam, body: createTimeOffBody }, async ({ auth, path, body }) =>
  json(201, await addTimeOff(auth.clinicId, path.id, body)),
);

/** GET /v1/professionals/{id}/time-off: `{ data }`, earliest first. */
export const listTimeOffs = clinicRoute('read', { path: idParam }, async ({ auth, path }) => json(200, { data: await listTimeOff(auth.clinicId, path.id) }));

/** DELETE /v1/professionals/{id}/time-off/{timeOffId} */
export const removeTimeOff = clinicRoute('write', { path: timeOffParams }, async ({ auth, path }) => {
  await deleteTimeOff(auth.clinicId, path.id, path.timeOffId);
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
