import { getDb } from '../db/client';
import { logger } from '../observability/logger';
import { pushToConnection } from './push';

/**
 * Pushes one message to every subscribed connection of a clinic whose scope is the whole clinic or
 * the given professional. A connection that is gone (410) is deleted; any other push failure is
 * logged and skipped. Returns how many connections received the message.
 */
export async function broadcastToClinic(clinicId: string, professionalId: string | null, message: unknown): Promise<number> {
  const db = await getDb();
  const scopes = professionalId ? ['clinic', professionalId] : ['clinic'];
  const connections = await db.socketConnection.findMany({
    where: { clinicId, scope: { in: scopes } },
    select: { connectionId: true, endpoint: true },
  });
  let delivered = 0;
  for (const c of connections) {
    try {
      if (await pushToConnection(c.endpoint, c.connectionId, message)) delivered++;
      else {
        await db.socketConnection.deleteMany({ where: { connectionId: c.connectionId } });
        logger.info('socket.connection_gone', { connectionId: c.connectionId });
      }
    } catch (err) {
      logger.warn('socket.push_failed', { connectionId: c.connectionId, error: (err as Error).message });
    }
  }
  return delivered;
}

/**
 * The realtime side of a domain event: for appointment events, `appointment.<event>` (ids, time and
 * status; no patient data) and `slots.changed` to the clinic's and the professional's subscribers.
 */
export async function broadcastDomainEvent(event: { clinicId: string; type: string; aggregateId: string }): Promise<void> {
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

/**
 * Delivers pending in-app notices of an appointment (or of the clinic) to the clinic's subscribed
 * sockets as `{type: 'notification', kind, appointmentId}`; a notice is marked `sent` once at least
 * one socket received it, and stays `pending` when none did.
 */
export async function deliverInAppNotifications(clinicId: string, appointmentId: string | null): Promise<number> {
  const db = await getDb();
  const pending = await db.notification.findMany({
    where: { clinicId, channel: 'in_app', status: 'pending', ...(appointmentId && { appointmentId }) },
    select: { id: true, kind: true, appointmentId: true, appointment: { select: { professionalId: true } } },
    orderBy: { createdAt: 'asc' },
    take: 100,
  });
  let sent = 0;
  for (const n of pending) {
    const delivered = await broadcastToClinic(clinicId, n.appointment?.professionalId ?? null, {
      type: 'notification',
      kind: n.kind,
      appointmentId: n.appointmentId,
    });
    if (delivered > 0) {
      await db.notification.updateMany({ where: { id: n.id, status: 'pending' }, data: { status: 'sent', sentAt: new Date() } });
      sent++;
    }
  }
  return sent;
}
