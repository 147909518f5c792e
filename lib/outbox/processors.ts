import { getDb } from '../db/client';
import type { JobContext } from '../jobs/registry';
import { logger } from '../observability/logger';
import { resyncClinicReminders, syncReminders } from '../reminders/reminders';
import { fanOutEvent } from '../webhooks/deliver';
import { notifyForEvent } from '../notifications/notifications';
import { broadcastDomainEvent, deliverInAppNotifications } from '../realtime/broadcast';
import { relayOutbox } from './relay';

/**
 * `domain.event`: loads the event and logs it. Idempotent: it only reads the event and re-syncs
 * reminders from the appointment's current state (deterministic job ids), so running it twice
 * changes nothing. Fan-out to webhooks and notifications is issue #4.
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

/** `outbox.relay`: one relay pass (scheduled by worker/schedulers.ts). */
export async function processOutboxRelay(_job: JobContext<'agenda', 'outbox.relay'>) {
  return relayOutbox();
}
