import { mintTicket } from '../../lib/domain/realtime/tickets';
import { getClinic, listApiKeys, revokeApiKey, updateClinic } from '../../lib/domain/tenancy/clinics';
import { issueApiKey } from '../../lib/domain/tenancy/key-issuing';
import { createApiKeySchema, updateClinicSchema } from '../../lib/domain/tenancy/schemas';
import { json, noContent } from '../../lib/http/response';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { httpRouter } from '../../lib/http/routes/function';
import { idParam } from '../../lib/platform/validation/common';

/** GET /v1/clinic: the caller's clinic. */
export const clinic = clinicRoute('read', async ({ auth }) => json(200, await getClinic(auth.clinicId)));

/** PATCH /v1/clinic: the caller's clinic settings. */
export const update = clinicRoute('admin', { body: updateClinicSchema }, async ({ auth, body }) => json(200, await updateClinic(auth.clinicId, body)));

/** GET /v1/api-keys: the clinic's keys, without secrets. */
export const list = clinicRoute('admin', async ({ auth }) => json(200, { data: await listApiKeys(auth.clinicId) }));

/** POST /v1/api-keys: a new key with scopes the caller holds, its secret shown once; 409 past the clinic's cap. */
export const create = clinicRoute('admin', { body: createApiKeySchema }, async ({ auth, body }) =>
  json(201, await issueApiKey(auth, body.name, body.scopes)),
);

/** DELETE /v1/api-keys/{id}: revokes a key at once; the sockets it opened are closed by the worker. */
export const revoke = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => {
  await revokeApiKey(auth.clinicId, path.id);
  return noContent();
});

/** POST /v1/realtime/tickets: a single-use WebSocket ticket (`?ticket=`), valid REALTIME_TICKET_TTL_S. */
export const ticket = clinicRoute('read', async ({ auth }) => json(201, await mintTicket(auth)));

/** The clinic function: the tenant's settings, its API keys, and WebSocket tickets. */
export const handler = httpRouter({
  'GET /v1/clinic': clinic,
  'PATCH /v1/clinic': update,
  'GET /v1/api-keys': list,
  'POST /v1/api-keys': create,
  'DELETE /v1/api-keys/{id}': revoke,
  'POST /v1/realtime/tickets': ticket,
});
