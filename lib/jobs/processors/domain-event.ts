import { getDb } from '../../platform/db/client';
import type { JobContext } from '../../platform/queues/context';
import { logger } from '../../platform/observability/logger';
import { resyncClinicReminders, syncReminders } from '../../domain/reminders/reminders';
import { fanOutEvent } from '../../domain/webhooks/fan-out';
import { notifyForEvent } from '../../domain/notifications/event-notices';
import { broadcastDomainEvent } from '../../domain/realtime/broadcast';
import { deliverAppointmentNotices, deliverControlNotices } from '../../domain/notifications/in-app-live';

/**
 * `domain.event`: everything a committed change sets off: reminders re-synced from the
 * appointment's current state, one webhook delivery per subscribed endpoint, the patient's notices,
 * then the event marked processed and, best effort, the live pushes. Idempotent: reminder job ids are
 * deterministic and deliveries and notices are unique per event, so running it twice adds nothing.
 */
export async function processDomainEvent(job: JobContext<'agenda', 'domain.event'>) {
  const { eventId } = job.data;
  const db = await getDb();
  const event = await db.outboxEvent.findUnique({ where: { id: eventId } });
  if (!event) {
    logger.warn('outbox.event_missing', { eventId });
    return { eventId, skipped: 'missing' };
  }
  if (event.type.startsWith('appointment.')) await syncReminders(event.aggregateId);
  if (event.type === 'clinic.updated' && (event.payload as { reminderOffsetsChanged?: boolean }).reminderOffsetsChanged) {
    await resyncClinicReminders(event.clinicId);
  }
  // Webhooks: one delivery per subscribed endpoint (unique per endpoint + event, so a re-run adds none).
  await fanOutEvent(event);
  // Patient notices (confirmation, reschedule, cancellation, renewal): unique per dedupe key, so a re-run adds none.
  await notifyForEvent(event);
  // Done: the relay never re-drives it. Before the realtime part, which is best effort and may be slow.
  await db.outboxEvent.updateMany({ where: { id: eventId, processedAt: null }, data: { processedAt: new Date() } });
  // Realtime (best effort, never fails the job): appointment/slots messages, then the pending in-app
  // notices of the event's appointment or control (renewal).
  try {
    await broadcastDomainEvent(event);
    await deliverInAppNotifications(event);
  } catch (err) {
    logger.warn('realtime.broadcast_failed', { eventId, error: (err as Error).message });
  }
  logger.info('domain.event', { eventId, type: event.type, aggregateId: event.aggregateId, clinicId: event.clinicId });
  return { eventId, type: event.type };
}

/**
 * Delivers the pending in-app notices of an event's appointment (`appointment.*`) or session
 * package (`control.*`, e.g. a renewal request) to the clinic's subscribed sockets. Notices made
 * while nobody listened also reach the next socket that subscribes. Returns how many were sent.
 */
async function deliverInAppNotifications(event: { clinicId: string; type: string; aggregateId: string }): Promise<number> {
  if (event.type.startsWith('appointment.')) return (await deliverAppointmentNotices(event.clinicId, event.aggregateId)).sent;
  if (event.type.startsWith('control.')) return (await deliverControlNotices(event.clinicId, event.aggregateId)).sent;
  return 0;
}
