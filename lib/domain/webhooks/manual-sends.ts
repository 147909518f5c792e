import { randomUUID } from 'node:crypto';
import { getDb } from '../../platform/db/client';
import { ConflictError, NotFoundError } from '../../platform/errors/app-error';
import { assertEnabled, ownEndpoint } from './endpoints';
import { enqueueDeliveryNow } from './enqueue';
import { eventPayload } from './fan-out';
import { PING_EVENT_TYPE } from './schemas';

/**
 * Sends a pending or failed delivery again under the same id (`webhook-id`), so a receiver that did
 * get it deduplicates it. 409 when it was delivered, when the endpoint is disabled, or while an
 * attempt is being sent (its outcome decides what comes next; ask again once it is recorded).
 */
export async function retryWebhookDelivery(clinicId: string, id: string, deliveryId: string) {
  assertEnabled(await ownEndpoint(clinicId, id));
  const db = await getDb();
  const delivery = await db.webhookDelivery.findFirst({ where: { id: deliveryId, endpointId: id }, select: { id: true, status: true } });
  if (!delivery) throw new NotFoundError('Webhook delivery not found');
  const delivered = () => new ConflictError('The delivery was already delivered', { deliveryId, reason: 'already_delivered' });
  if (delivery.status === 'delivered') throw delivered();
  await enqueueDeliveryNow(deliveryId, async () => {
    const { count } = await db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: { not: 'delivered' } },
      data: { status: 'pending', nextAttemptAt: null },
    });
    if (count === 0) throw delivered();
  });
  return { deliveryId, status: 'pending' as const };
}

/** Bounds one request's work; `truncated` and `until` say where to continue. */
export const REPLAY_MAX_EVENTS = 1_000;

/**
 * Re-sends every event of the clinic since `since` that the endpoint subscribes to, as NEW
 * deliveries (new ids, so new `webhook-id`s), all sharing this replay's `replayId`. Why new ids:
 * `webhook-id` is the receiver's idempotency key, and a replay is asked for precisely because the
 * receiver must process those events again (it lost data, or was fixed); under the old ids a
 * correct receiver would drop them as duplicates. The payload is the same, with the original
 * `data.eventId`, so a receiver can still tell it is the same event; the original delivery and its
 * attempts stay as they were.
 */
export async function replayWebhookEvents(clinicId: string, id: string, since: Date) {
  const endpoint = await ownEndpoint(clinicId, id);
  assertEnabled(endpoint);
  const db = await getDb();
  const all = endpoint.eventTypes.includes('*');
  const events = await db.outboxEvent.findMany({
    where: { clinicId, createdAt: { gte: since }, ...(!all && { type: { in: endpoint.eventTypes } }) },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: REPLAY_MAX_EVENTS + 1,
  });
  const truncated = events.length > REPLAY_MAX_EVENTS;
  const kept = truncated ? events.slice(0, REPLAY_MAX_EVENTS) : events;
  const replayId = randomUUID();
  const created = await db.webhookDelivery.createManyAndReturn({
    data: kept.map((e) => ({ endpointId: id, eventId: e.id, eventType: e.type, payload: eventPayload(e), replayId })),
    select: { id: true },
  });
  for (const d of created) await enqueueDeliveryNow(d.id);
  return {
    replayId,
    count: created.length,
    deliveryIds: created.map((d) => d.id),
    truncated,
    /** Replay again from here to continue when truncated. */
    until: kept.length > 0 ? kept[kept.length - 1]!.createdAt : null,
  };
}

/**
 * A `webhook.ping` delivery, signed and retried like any other and sent whatever the event filter,
 * so a clinic can check its receiver end to end before a real event depends on it.
 */
export async function pingWebhookEndpoint(clinicId: string, id: string) {
  assertEnabled(await ownEndpoint(clinicId, id));
  const db = await getDb();
  const eventId = randomUUID(); // not a domain event: a fresh id per ping
  const delivery = await db.webhookDelivery.create({
    data: { endpointId: id, eventId, eventType: PING_EVENT_TYPE, payload: { type: PING_EVENT_TYPE, timestamp: new Date().toISOString(), data: { endpointId: id, pingId: eventId } } },
    select: { id: true, status: true },
  });
  await enqueueDeliveryNow(delivery.id);
  return { deliveryId: delivery.id, status: delivery.status };
}
