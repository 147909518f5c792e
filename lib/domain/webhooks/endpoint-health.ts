import type { Db } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { publishEvents, recordEvent, type NewDomainEvent } from '../events/outbox';
import { FAILURE_STREAK_GAP_MS } from './retry-policy';

/**
 * Counts a failed attempt against its endpoint, in one statement so concurrent deliveries cannot
 * lose a count or resurrect a streak a success just closed. The streak (`first_failure_at`) goes
 * on while failures follow each other within FAILURE_STREAK_GAP_MS; a failure after a longer quiet
 * spell, or the first since a success, starts a new one. Returns the streak after this failure,
 * or undefined when the endpoint was deleted meanwhile.
 */
export async function recordEndpointFailure(db: Db, endpointId: string, at: Date) {
  const quietSince = new Date(at.getTime() - FAILURE_STREAK_GAP_MS);
  const rows = await db.$queryRaw<{ first_failure_at: Date; failure_count: number }[]>`
    UPDATE "webhook_endpoints"
       SET "first_failure_at" = CASE WHEN "first_failure_at" IS NULL OR "last_failure_at" IS NULL OR "last_failure_at" < ${quietSince}::timestamptz
                                     THEN ${at}::timestamptz ELSE "first_failure_at" END,
           "failure_count" = CASE WHEN "first_failure_at" IS NULL OR "last_failure_at" IS NULL OR "last_failure_at" < ${quietSince}::timestamptz
                                  THEN 1 ELSE "failure_count" + 1 END,
           "last_failure_at" = GREATEST("last_failure_at", ${at}::timestamptz),
           "updated_at" = now()
     WHERE "id" = ${endpointId}::uuid
    RETURNING "first_failure_at", "failure_count"`;
  const row = rows[0];
  return row && { firstFailureAt: row.first_failure_at, failureCount: row.failure_count };
}

/** The delivery whose failure disables its endpoint, and why. */
export interface Disabling {
  deliveryId: string;
  endpoint: { id: string; clinicId: string };
  lastStatusCode: number | null;
  disabledReason: string;
  payload: NewDomainEvent['payload'];
}

/**
 * Disabling an endpoint fails the delivery for good, and the clinic is told through a
 * `webhook.endpoint_disabled` event (its other endpoints, its clinic-wide sockets, whatever else
 * consumes the outbox), once however many deliveries fail at the same time: only the update that
 * still finds the endpoint enabled records the event.
 */
export async function disableEndpoint(d: Disabling): Promise<void> {
  const eventId = await inTransaction(async (tx) => {
    await tx.webhookDelivery.update({ where: { id: d.deliveryId }, data: { status: 'failed', lastStatusCode: d.lastStatusCode, nextAttemptAt: null } });
    const { count } = await tx.webhookEndpoint.updateMany({ where: { id: d.endpoint.id, enabled: true }, data: { enabled: false, disabledReason: d.disabledReason } });
    if (count === 0) return undefined;
    return recordEvent(tx, { clinicId: d.endpoint.clinicId, type: 'webhook.endpoint_disabled', aggregateId: d.endpoint.id, payload: d.payload });
  });
  if (eventId) await publishEvents([eventId]);
}
