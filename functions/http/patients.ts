import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/clinic-handler';
import { httpRouter } from '../../lib/http/handler';
import { pathId, queryParams } from '../../lib/http/params';
import { json, noContent } from '../../lib/http/response';
import { createPatient, deletePatient, getPatient, listPatients, updatePatient } from '../../lib/scheduling/patients';
import { createPatientBody, listPatientsQuery, updatePatientBody } from '../../lib/scheduling/schemas';


/** POST /v1/patients */
export const create = clinicHandler(async (event, auth) =>
  json(201, await createPatient(auth.clinicId, parseJsonBody(event, createPatientBody))),
);

/** GET /v1/patients?limit=&cursor=&q=: `{ data, nextCursor }`, oldest first; q matches the name, any case. */
export const list = clinicHandler(async (event, auth) =>
  json(200, await listPatients(auth.clinicId, queryParams(listPatientsQuery, event))),
);

/** GET /v1/patients/{id} */
export const get = clinicHandler(async (event, auth) => json(200, await getPatient(auth.clinicId, pathId(event))));

/** PATCH /v1/patients/{id} */
export const update = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(200, await updatePatient(auth.clinicId, id, parseJsonBody(event, updatePatientBody)));
});

/** DELETE /v1/patients/{id}: 409 while the patient has appointments. */
export const remove = clinicHandler(async (event, auth) => {
  await deletePatient(auth.clinicId, pathId(event));
  return noContent();
});

/** The patients function: every route of this area, picked by API Gateway route key. */
export const handler = httpRouter({
  'POST /v1/patients': create,
  'GET /v1/patients': list,
  'GET /v1/patients/{id}': get,
  'PATCH /v1/patients/{id}': update,
  'DELETE /v1/patients/{id}': remove,
});
