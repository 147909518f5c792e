import { getDb } from '../../platform/db/client';
import { getWebhookQueue } from '../../platform/queues/queues';
import { requeuePending } from '../../platform/queues/requeue';
import { deliveryJobOptions } from './retry-policy';

/** Only the outbox fields the fan-out reads, so an outbox row or a test's literal event will do. */
export interface FanOutEvent {
  id: string;
  clinicId: string;
  type: string;
  aggregateId: string;
  createdAt: Date;
  payload: unknown;
}

/**
 * One delivery per enabled endpoint of the event's clinic subscribed to its type, each enqueued
 * under its own id. Safe to repeat, as an at-least-once event must be: the unique endpoint + event
 * pair creates nothing new, and BullMQ deduplicates the job by id. Returns the pending deliveries.
 */
export async function fanOutEvent(event: FanOutEvent): Promise<string[]> {
  const db = await getDb();
  const endpoints = await db.webhookEndpoint.findMany({
    where: { clinicId: event.clinicId, enabled: true, OR: [{ eventTypes: { has: event.type } }, { eventTypes: { has: '*' } }] },
    select: { id: true },
  });
  if (endpoints.length === 0) return [];
  const payload = eventPayload(event);
  await db.webhookDelivery.createMany({
    data: endpoints.map((e) => ({ endpointId: e.id, eventId: event.id, eventType: event.type, payload })),
    skipDuplicates: true, // ON CONFLICT DO NOTHING
  });
  const pending = await db.webhookDelivery.findMany({
    where: { eventId: event.id, endpointId: { in: endpoints.map((e) => e.id) }, status: 'pending' },
    select: { id: true },
  });
  const queue = await getWebhookQueue();
  // A delivery still pending whose job died (every attempt failed before recording) runs again.
  for (const d of pending) await requeuePending(queue, 'webhook.deliver', { deliveryId: d.id }, { ...deliveryJobOptions(d.id), jobId: d.id });
  return pending.map((d) => d.id);
}

/**
 * The body of an event's delivery, `{ type, timestamp, data }`: ids rather than records, so patient
 * data stays behind the API. Replays build it the same way, so a receiver sees the same event again.
 */
export function eventPayload(event: Omit<FanOutEvent, 'clinicId'>) {
  const extra = event.payload && typeof event.payload === 'object' ? (event.payload as Record<string, unknown>) : {};
  return { type: event.type, timestamp: event.createdAt.toISOString(), data: { ...extra, id: event.aggregateId, eventId: event.id } };
}
