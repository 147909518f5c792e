import { getDb } from '../../platform/db/client';
import type { Tx } from '../../platform/db/transaction';
import { logger } from '../../platform/observability/logger';
import { getAgendaQueue } from '../../platform/queues/queues';

/** Domain event types written to the outbox (stable English: webhook subscribers and the notices match on them). */
export type DomainEventType =
  | 'appointment.created'
  | 'appointment.rescheduled'
  | 'appointment.cancelled'
  | 'appointment.confirmed'
  | 'appointment.completed'
  | 'appointment.no_show'
  | 'control.created'
  | 'control.consumed'
  | 'control.released'
  | 'control.exhausted'
  | 'control.expiring'
  | 'control.renewed'
  | 'control.renewal_requested'
  | 'webhook.endpoint_disabled'
  | 'clinic.updated';

export interface NewDomainEvent {
  clinicId: string;
  type: DomainEventType;
  /** The id of the changed record (appointment, control). */
  aggregateId: string;
  /** Ids and non-personal facts only: never names, contacts or notes (LGPD; jobs are clear text in Redis). */
  payload: Record<string, string | number | boolean | null>;
}

/**
 * Writes a domain event inside the caller's transaction, so it exists if and only if the change
 * committed. Returns the event id; pass the ids to `publishEvents` after the commit.
 */
export async function recordEvent(tx: Tx, event: NewDomainEvent): Promise<string> {
  const row = await tx.outboxEvent.create({
    data: { clinicId: event.clinicId, type: event.type, aggregateId: event.aggregateId, payload: event.payload },
    select: { id: true },
  });
  return row.id;
}

/** Job options of a published event: the job id is the event id, so a republish is deduplicated by BullMQ. */
export const domainEventJobId = (eventId: string) => eventId;

/**
 * Publishes committed events to the `agenda` queue as `domain.event` jobs and marks them published.
 * Never throws: a failed enqueue (Redis down) is recorded on the row (attempts, last_error) and the
 * relay in the worker republishes it later (lib/jobs/outbox/relay.ts); published is not processed: the
 * relay also re-drives an event whose job never finished. Returns how many were published.
 */
export async function publishEvents(eventIds: string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  const db = await getDb();
  let published = 0;
  try {
    const queue = await getAgendaQueue();
    for (const eventId of eventIds) {
      await queue.add('domain.event', { eventId }, { jobId: domainEventJobId(eventId) });
      await db.outboxEvent.updateMany({
        where: { id: eventId, publishedAt: null },
        data: { publishedAt: new Date(), attempts: { increment: 1 }, lastError: null },
      });
      published += 1;
    }
  } catch (err) {
    const message = (err as Error).message.slice(0, 500);
    const pending = eventIds.slice(published);
    logger.warn('outbox.publish_failed', { pending: pending.length, error: message });
    await db.outboxEvent
      .updateMany({ where: { id: { in: pending }, publishedAt: null }, data: { attempts: { increment: 1 }, lastError: message } })
      .catch((e: Error) => logger.error('outbox.mark_failed', { error: e.message }));
  }
  return published;
}
