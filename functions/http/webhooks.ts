import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/clinic-handler';
import { httpRouter } from '../../lib/http/handler';
import { pathId, pathParams, queryParams } from '../../lib/http/params';
import { json, noContent } from '../../lib/http/response';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  pingWebhookEndpoint,
  replayWebhookEvents,
  retryWebhookDelivery,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../../lib/webhooks/endpoints';
import { createWebhookSchema, deliveryParams, listDeliveriesQuery, replaySchema, updateWebhookSchema } from '../../lib/webhooks/schemas';

/** POST /v1/webhooks: a new endpoint; its signing secret is shown once. */
export const create = clinicHandler(async (event, auth) => {
  const body = parseJsonBody(event, createWebhookSchema);
  return json(201, await createWebhookEndpoint(auth.clinicId, body));
});

/** GET /v1/webhooks: the clinic's endpoints, without secrets. */
export const list = clinicHandler(async (_event, auth) => json(200, { data: await listWebhookEndpoints(auth.clinicId) }));

/** GET /v1/webhooks/{id} */
export const get = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(200, await getWebhookEndpoint(auth.clinicId, id));
});

/** PATCH /v1/webhooks/{id}: url, eventTypes, enabled. */
export const update = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  const body = parseJsonBody(event, updateWebhookSchema);
  return json(200, await updateWebhookEndpoint(auth.clinicId, id, body));
});

/** DELETE /v1/webhooks/{id} */
export const remove = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  await deleteWebhookEndpoint(auth.clinicId, id);
  return noContent();
});

/** POST /v1/webhooks/{id}/rotate-secret: a new secret, shown once; the previous one signs too for the grace period. */
export const rotateSecret = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(200, await rotateWebhookSecret(auth.clinicId, id));
});

/** GET /v1/webhooks/{id}/deliveries?status=&cursor=&limit=: newest first, each with its attempts. */
export const listDeliveries = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  const q = queryParams(listDeliveriesQuery, event);
  return json(200, await listWebhookDeliveries(auth.clinicId, id, q));
});

/** POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry: again, same webhook-id; 409 once delivered or while being sent. */
export const retryDelivery = clinicHandler(async (event, auth) => {
  const { id, deliveryId } = pathParams(deliveryParams, event);
  return json(202, await retryWebhookDelivery(auth.clinicId, id, deliveryId));
});

/** POST /v1/webhooks/{id}/replay {since}: every subscribed event since then, as new deliveries. */
export const replay = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  const { since } = parseJsonBody(event, replaySchema);
  return json(202, await replayWebhookEvents(auth.clinicId, id, new Date(since)));
});

/** POST /v1/webhooks/{id}/ping: a `webhook.ping` delivery, sent like any other. */
export const ping = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  return json(202, await pingWebhookEndpoint(auth.clinicId, id));
});

/** The webhooks function: every route of this area, picked by API Gateway route key. */
export const handler = httpRouter({
  'POST /v1/webhooks': create,
  'GET /v1/webhooks': list,
  'GET /v1/webhooks/{id}': get,
  'PATCH /v1/webhooks/{id}': update,
  'DELETE /v1/webhooks/{id}': remove,
  'POST /v1/webhooks/{id}/rotate-secret': rotateSecret,
  'GET /v1/webhooks/{id}/deliveries': listDeliveries,
  'POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry': retryDelivery,
  'POST /v1/webhooks/{id}/replay': replay,
  'POST /v1/webhooks/{id}/ping': ping,
});
