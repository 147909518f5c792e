import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import { forgetConnections, subscribersOf } from './connections';
import { batchesOf, pushToMany } from './push';

/**
 * Bound on one batch of a broadcast's pushes, retries included (the SDK alone lets one push take
 * about 8 s): a hanging Management API holds the domain event's job seconds per batch, not per socket.
 */
const BATCH_DEADLINE_MS = 5_000;

/**
 * Pushes one message to every subscribed connection of a clinic whose scope is the whole clinic or
 * the given professional (sockets of revoked keys excluded), a batch at once. A connection that is
 * gone (410) is deleted; any other push failure is logged and skipped. Returns how many connections
 * received it.
 */
export async function broadcastToClinic(clinicId: string, professionalId: string | null, message: unknown): Promise<number> {
  const db = await getDb();
  let delivered = 0;
  for (const batch of batchesOf(await subscribersOf(db, clinicId, professionalId))) {
    const outcome = await pushToMany(batch, message, BATCH_DEADLINE_MS);
    delivered += outcome.delivered;
    for (const connectionId of outcome.gone) logger.info('socket.connection_gone', { connectionId });
    for (const failure of outcome.failed) logger.warn('socket.push_failed', failure);
    await forgetConnections(outcome.gone);
  }
  return delivered;
}

/**
 * The realtime side of a domain event: for appointment events, `appointment.<event>` (ids, time and
 * status; no patient data) and `slots.changed` to the clinic's and the professional's subscribers;
 * a disabled webhook endpoint to the clinic-wide subscribers (the clinic's staff), who may have no
 * other endpoint to hear it on.
 */
export async function broadcastDomainEvent(event: {
  clinicId: string;
  type: string;
  aggregateId: string;
  payload?: unknown;
}): Promise<void> {
  if (event.type === 'webhook.endpoint_disabled') {
    const reason = (event.payload as { reason?: unknown } | undefined)?.reason ?? null;
    await broadcastToClinic(event.clinicId, null, { type: event.type, endpointId: event.aggregateId, reason });
    return;
  }
  if (!event.type.startsWith('appointment.')) return;
  const db = await getDb();
  const appt = await db.appointment.findFirst({
    where: { id: event.aggregateId, clinicId: event.clinicId },
    select: { id: true, professionalId: true, startsAt: true, status: true },
  });
  if (!appt) return;
  await broadcastToClinic(event.clinicId, appt.professionalId, {
    type: event.type,
    appointmentId: appt.id,
    professionalId: appt.professionalId,
    startsAt: appt.startsAt.toISOString(),
    status: appt.status,
  });
  await broadcastToClinic(event.clinicId, appt.professionalId, { type: 'slots.changed', professionalId: appt.professionalId });
}
