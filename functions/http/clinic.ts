import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/clinic-handler';
import { httpRouter } from '../../lib/http/handler';
import { pathId } from '../../lib/http/params';
import { json, noContent } from '../../lib/http/response';
import { getClinic, issueApiKey, listApiKeys, revokeApiKey, updateClinic } from '../../lib/tenancy/clinics';
import { createApiKeySchema, updateClinicSchema } from '../../lib/tenancy/schemas';

/** GET /v1/clinic: the caller's clinic. */
export const clinic = clinicHandler(async (_event, auth) => json(200, await getClinic(auth.clinicId)));

/** PATCH /v1/clinic: the caller's clinic settings. */
export const update = clinicHandler(async (event, auth) =>
  json(200, await updateClinic(auth.clinicId, parseJsonBody(event, updateClinicSchema))),
);

/** GET /v1/api-keys: the clinic's keys, without secrets. */
export const list = clinicHandler(async (_event, auth) => json(200, { data: await listApiKeys(auth.clinicId) }));

/** POST /v1/api-keys: a new key, its secret shown once. */
export const create = clinicHandler(async (event, auth) => {
  const { name } = parseJsonBody(event, createApiKeySchema);
  return json(201, await issueApiKey(auth.clinicId, name));
});

/** DELETE /v1/api-keys/{id}: revokes a key at once; the sockets it opened are closed by the worker. */
export const revoke = clinicHandler(async (event, auth) => {
  await revokeApiKey(auth.clinicId, pathId(event));
  return noContent();
});

/** The clinic function: the tenant's settings and its API keys. */
export const handler = httpRouter({
  'GET /v1/clinic': clinic,
  'PATCH /v1/clinic': update,
  'GET /v1/api-keys': list,
  'POST /v1/api-keys': create,
  'DELETE /v1/api-keys/{id}': revoke,
});
