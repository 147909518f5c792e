import { listWebhookDeliveries } from '../../lib/domain/webhooks/delivery-log';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  updateWebhookEndpoint,
} from '../../lib/domain/webhooks/endpoints';
import { pingWebhookEndpoint, replayWebhookEvents, retryWebhookDelivery } from '../../lib/domain/webhooks/manual-sends';
import { rotateWebhookSecret } from '../../lib/domain/webhooks/secret-rotation';
import { createWebhookSchema, deliveryParams, listDeliveriesQuery, replaySchema, updateWebhookSchema } from '../../lib/domain/webhooks/schemas';
import { json, noContent } from '../../lib/http/response';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { httpRouter } from '../../lib/http/routes/function';
import { idParam } from '../../lib/platform/validation/common';

/** POST /v1/webhooks: a new endpoint; its signing secret is shown once. */
export const create = clinicRoute('admin', { body: createWebhookSchema }, async ({ auth, body }) => json(201, await createWebhookEndpoint(auth.clinicId, body)));

/** GET /v1/webhooks: the clinic's endpoints, without secrets. */
export const list = clinicRoute('admin', async ({ auth }) => json(200, { data: await listWebhookEndpoints(auth.clinicId) }));

/** GET /v1/webhooks/{id} */
export const get = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => json(200, await getWebhookEndpoint(auth.clinicId, path.id)));

/** PATCH /v1/webhooks/{id}: url, eventTypes, enabled. */
export const update = clinicRoute('admin', { path: idParam, body: updateWebhookSchema }, async ({ auth, path, body }) =>
  json(200, await updateWebhookEndpoint(auth.clinicId, path.id, body)),
);

/** DELETE /v1/webhooks/{id} */
export const remove = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => {
  await deleteWebhookEndpoint(auth.clinicId, path.id);
  return noContent();
});

/** POST /v1/webhooks/{id}/rotate-secret: a new secret, shown once; the previous one signs too for the grace period. */
export const rotateSecret = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => json(200, await rotateWebhookSecret(auth.clinicId, path.id)));

/** GET /v1/webhooks/{id}/deliveries?status=&cursor=&limit=: newest first, each with its attempts. */
export const listDeliveries = clinicRoute('admin', { path: idParam, query: listDeliveriesQuery }, async ({ auth, path, query }) =>
  json(200, await listWebhookDeliveries(auth.clinicId, path.id, query)),
);

/** POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry: again, same webhook-id; 409 once delivered or while being sent. */
export const retryDelivery = clinicRoute('admin', { path: deliveryParams }, async ({ auth, path }) =>
  json(202, await retryWebhookDelivery(auth.clinicId, path.id, path.deliveryId)),
);

/** POST /v1/webhooks/{id}/replay {since}: every subscribed event since then, as new deliveries. */
export const replay = clinicRoute('admin', { path: idParam, body: replaySchema }, async ({ auth, path, body }) =>
  json(202, await replayWebhookEvents(auth.clinicId, path.id, new Date(body.since))),
);

/** POST /v1/webhooks/{id}/ping: a `webhook.ping` delivery, sent like any other. */
export const ping = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => json(202, await pingWebhookEndpoint(auth.clinicId, path.id)));

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
