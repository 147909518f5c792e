import { getDb } from '../../platform/db/client';
import { toPage, type Page } from '../../platform/pagination/cursor';
import { ownEndpoint } from './endpoints';
import type { ListDeliveriesQuery } from './schemas';

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

/** The replay id of an event's own delivery (the column is part of a unique key, so not null). */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * An endpoint's deliveries, newest first, each with its attempts: what a clinic reads to see why a
 * receiver missed an event. Keyset on (created_at, id), so pages hold while deliveries keep coming.
 */
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
