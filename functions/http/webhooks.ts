import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { idParam } from '../../lib/validation/common';
import { validate } from '../../lib/validation/validate';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  updateWebhookEndpoint,
} from '../../lib/webhooks/endpoints';
import { createWebhookSchema, updateWebhookSchema } from '../../lib/webhooks/schemas';

/** POST /v1/webhooks: a new endpoint; its signing secret is shown once. */
export const create = clinicHandler(async (event, auth) => {
  const body = parseJsonBody(event, createWebhookSchema);
  return json(201, await createWebhookEndpoint(auth.clinicId, body));
});

/** GET /v1/webhooks: the clinic's endpoints, without secrets. */
export const list = clinicHandler(async (_event, auth) => json(200, { data: await listWebhookEndpoints(auth.clinicId) }));

/** GET /v1/webhooks/{id} */
export const get = clinicHandler(async (event, auth) => {
  const { id } = validate(idParam, event.pathParameters ?? {}, 'path');
  return json(200, await getWebhookEndpoint(auth.clinicId, id));
});

/** PATCH /v1/webhooks/{id}: url, eventTypes, enabled. */
export const update = clinicHandler(async (event, auth) => {
  const { id } = validate(idParam, event.pathParameters ?? {}, 'path');
  const body = parseJsonBody(event, updateWebhookSchema);
  return json(200, await updateWebhookEndpoint(auth.clinicId, id, body));
});

/** DELETE /v1/webhooks/{id} */
export const remove = clinicHandler(async (event, auth) => {
  const { id } = validate(idParam, event.pathParameters ?? {}, 'path');
  await deleteWebhookEndpoint(auth.clinicId, id);
  return { statusCode: 204, headers: {}, body: '' };
});
