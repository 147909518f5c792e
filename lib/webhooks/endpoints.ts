import { randomBytes, randomUUID } from 'node:crypto';
import { getConfig } from '../config';
import { getDb } from '../db/client';
import { ConflictError, NotFoundError, ValidationError } from '../errors/app-error';
import { toPage, type Page } from '../pagination/cursor';
import { enqueueDeliveryNow, eventPayload } from './deliver';
import { PING_EVENT_TYPE, type ListDeliveriesQuery } from './schemas';
import { assertSafeWebhookUrl, ForbiddenWebhookTargetError, type Resolver } from './ssrf';

/** The fields shown for an endpoint; the secret only on create. */
const PUBLIC_FIELDS = {
  id: true,
  url: true,
  eventTypes: true,
  enabled: true,
  disabledReason: true,
  failureCount: true,
  firstFailureAt: true,
  lastFailureAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** Tests inject a resolver; production resolves through the system (dns.lookup, all addresses). */
let resolverOverride: Resolver | undefined;
export function setWebhookResolverForTests(resolve: Resolver | undefined) {
  resolverOverride = resolve;
}

async function checkUrl(url: string): Promise<string> {
  try {
    const parsed = await assertSafeWebhookUrl(url, { allowLoopback: getConfig().webhooks.allowLoopback, resolve: resolverOverride });
    return parsed.toString();
  } catch (err) {
    if (err instanceof ForbiddenWebhookTargetError) throw new ValidationError('Invalid body', [{ field: 'url', problem: err.reason }]);
    throw err;
  }
}

const dedupe = (types: string[]) => (types.includes('*') ? ['*'] : [...new Set(types)]);

export async function createWebhookEndpoint(clinicId: string, input: { url: string; eventTypes: string[] }) {
  const url = await checkUrl(input.url);
  const db = await getDb();
  const row = await db.webhookEndpoint.create({
    data: { clinicId, url, eventTypes: dedupe(input.eventTypes), secret: newWebhookSecret() },
    select: { ...PUBLIC_FIELDS, secret: true },
  });
  return row; // the only time the secret is shown
}

export async function listWebhookEndpoints(clinicId: string) {
  const db = await getDb();
  return db.webhookEndpoint.findMany({ where: { clinicId }, select: PUBLIC_FIELDS, orderBy: { createdAt: 'asc' } });
}

export async function getWebhookEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const row = await db.webhookEndpoint.findFirst({ where: { id, clinicId }, select: PUBLIC_FIELDS });
  if (!row) throw new NotFoundError('Webhook endpoint not found');
  return row;
}

export async function updateWebhookEndpoint(
  clinicId: string,
  id: string,
  input: { url?: string; eventTypes?: string[]; enabled?: boolean },
) {
  await getWebhookEndpoint(clinicId, id); // 404 for another clinic's id
  const data: Record<string, unknown> = {};
  if (input.url !== undefined) data.url = await checkUrl(input.url);
  if (input.eventTypes !== undefined) data.eventTypes = dedupe(input.eventTypes);
  if (input.enabled !== undefined) {
    data.enabled = input.enabled;
    // Re-enabling starts a fresh failure count.
    if (input.enabled) Object.assign(data, { disabledReason: null, failureCount: 0, firstFailureAt: null });
    else data.disabledReason = 'disabled by the clinic';
  }
  const db = await getDb();
  const { count } = await db.webhookEndpoint.updateMany({ where: { id, clinicId }, data });
  if (count === 0) throw new NotFoundError('Webhook endpoint not found');
  return getWebhookEndpoint(clinicId, id);
}

export async function deleteWebhookEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const { count } = await db.webhookEndpoint.deleteMany({ where: { id, clinicId } });
  if (count === 0) throw new NotFoundError('Webhook endpoint not found');
}

// ---------------------------------------------------------------------------------------------
// Operations: rotation, deliveries, retry, replay, ping
// ---------------------------------------------------------------------------------------------

/** The endpoint, if it is this clinic's (404 otherwise, the same as for an id that does not exist). */
async function ownEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const row = await db.webhookEndpoint.findFirst({ where: { id, clinicId }, select: { id: true, enabled: true, eventTypes: true } });
  if (!row) throw new NotFoundError('Webhook endpoint not found');
  return row;
}

function assertEnabled(endpoint: { id: string; enabled: boolean }) {
  if (!endpoint.enabled) throw new ConflictError('The webhook endpoint is disabled; enable it first', { endpointId: endpoint.id, reason: 'endpoint_disabled' });
}

/**
 * A new secret, shown once. The previous one keeps signing (a second `v1,` signature) for
 * WEBHOOK_SECRET_GRACE_HOURS, so the receiver can switch without losing deliveries. Rotating again
 * inside the grace period drops the older secret: only the last one before the new one is kept.
 */
export async function rotateWebhookSecret(clinicId: string, id: string) {
  const db = await getDb();
  const graceMs = getConfig().webhooks.secretGraceHours * 3_600_000;
  const secret = newWebhookSecret();
  const expiresAt = new Date(Date.now() + graceMs);
  // One statement: the previous secret is the one stored at that instant, even with two rotations racing.
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE "webhook_endpoints"
       SET "previous_secret" = CASE WHEN ${graceMs > 0}::boolean THEN "secret" END,
           "previous_secret_expires_at" = ${graceMs > 0 ? expiresAt : null}::timestamptz,
           "secret" = ${secret},
           "updated_at" = now()
     WHERE "id" = ${id}::uuid AND "clinic_id" = ${clinicId}::uuid
    RETURNING "id"`;
  if (rows.length === 0) throw new NotFoundError('Webhook endpoint not found');
  const endpoint = await getWebhookEndpoint(clinicId, id);
  return { ...endpoint, secret, previousSecretExpiresAt: graceMs > 0 ? expiresAt : null };
}

const DELIVERY_FIELDS = {
  id: true,
  eventId: true,
  eventType: true,
  replayId: true,
  status: true,
  attempts: true,
  nextAttemptAt: true,
  lastStatusCode: true,
  createdAt: true,
  deliveredAt: true,
  payload: true,
  attemptLog: {
    select: { attemptNo: true, statusCode: true, latencyMs: true, error: true, responseExcerpt: true, createdAt: true },
    orderBy: { attemptNo: 'asc' },
  },
} as const;

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** An endpoint's deliveries, newest first (keyset on created_at, id), each with its attempts. */
export async function listWebhookDeliveries(clinicId: string, id: string, q: ListDeliveriesQuery): Promise<Page<unknown>> {
  await ownEndpoint(clinicId, id);
  const db = await getDb();
  const before = q.cursor
    ? { OR: [{ createdAt: { lt: q.cursor.at } }, { createdAt: q.cursor.at, id: { lt: q.cursor.id } }] }
    : {};
  const rows = await db.webhookDelivery.findMany({
    where: { endpointId: id, ...(q.status && { status: q.status }), ...before },
    select: DELIVERY_FIELDS,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: q.limit + 1,
  });
  return toPage(rows, q.limit, (r) => r.createdAt, ({ replayId, ...r }) => ({ ...r, replayId: replayId === NIL_UUID ? null : replayId }));
}

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

/** At most this many events per replay request; `truncated` and `until` say where to continue. */
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

/** A `webhook.ping` delivery, signed and retried like any other; sent whatever the event filter. */
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
