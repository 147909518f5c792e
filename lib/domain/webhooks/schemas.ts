import { z } from 'zod';
import { isoDateTime } from '../../platform/validation/time';
import { cursor, limit } from '../../platform/pagination/cursor';
import type { DomainEventType } from '../events/outbox';
import { patchOf } from '../../platform/validation/common';

/** Every domain event type, at run time; the Record makes a type added to DomainEventType a compile error here until listed. */
const EVENT_TYPES: Record<DomainEventType, true> = {
  'appointment.created': true,
  'appointment.rescheduled': true,
  'appointment.cancelled': true,
  'appointment.confirmed': true,
  'appointment.completed': true,
  'appointment.no_show': true,
  'control.created': true,
  'control.consumed': true,
  'control.released': true,
  'control.exhausted': true,
  'control.expiring': true,
  'control.renewed': true,
  'control.renewal_requested': true,
  'webhook.endpoint_disabled': true,
  'clinic.updated': true,
};
export const WEBHOOK_EVENT_TYPES = Object.keys(EVENT_TYPES) as DomainEventType[];

const eventType = z.enum(['*', ...WEBHOOK_EVENT_TYPES] as [string, ...string[]]);
const url = z.string().trim().min(1).max(2048);
const eventTypes = z.array(eventType).min(1).max(WEBHOOK_EVENT_TYPES.length + 1);

export const createWebhookSchema = z.strictObject({ url, eventTypes });
export const updateWebhookSchema = patchOf({ url, eventTypes, enabled: z.boolean() });

/** The event type of a test ping (not a domain event: sent to the endpoint whatever its filter). */
export const PING_EVENT_TYPE = 'webhook.ping';

/** Path of a delivery route: the endpoint and the delivery. */
export const deliveryParams = z.object({ id: z.uuid(), deliveryId: z.uuid() });

/** GET /v1/webhooks/{id}/deliveries: newest first. */
export const listDeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  cursor: cursor.optional(),
  limit: limit(20),
});
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;

/** POST /v1/webhooks/{id}/replay: every event since this instant (with an offset). */
export const replaySchema = z.strictObject({ since: isoDateTime });
