import type { Db } from '../db/client';
import { getDb } from '../db/client';
import { logger } from '../observability/logger';
import { getAgendaQueue } from '../queues/queues';

/** The transaction client Prisma hands to `$transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Domain event types written to the outbox (stable English, used by subscribers in #4). */
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
 * relay in the worker republishes it later (lib/outbox/relay.ts); published is not processed: the
 * relay also re-drives an event whose job never finished. Returns how many were published.
 * Appointment events are published only once their professional's cached slot lists were dropped
 * (the caller's or the relay's bump): see `hasUnpublishedAppointmentEvents`.
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
    await deferEvents(eventIds.slice(published), (err as Error).message);
  }
  return published;
}

/**
 * Leaves committed events unpublished for the relay, recording why on each row (attempts,
 * last_error): a failed enqueue, or a failed slot cache bump that must come first. Never throws.
 */
export async function deferEvents(eventIds: string[], reason: string): Promise<void> {
  if (eventIds.length === 0) return;
  const message = reason.slice(0, 500);
  logger.warn('outbox.publish_failed', { pending: eventIds.length, error: message });
  try {
    const db = await getDb();
    await db.outboxEvent.updateMany({ where: { id: { in: eventIds }, publishedAt: null }, data: { attempts: { increment: 1 }, lastError: message } });
  } catch (e) {
    logger.error('outbox.mark_failed', { error: (e as Error).message });
  }
}

/** Why an appointment event waits for the relay although Redis may answer by now (`deferEvents`). */
export const SLOT_CACHE_NOT_DROPPED = 'slot cache not invalidated (Redis unavailable); the relay invalidates it, then publishes';

/** Appointment events: the ones that change a professional's free slots. */
export const APPOINTMENT_EVENT_PREFIX = 'appointment.';

/**
 * True while an appointment event of this professional waits for publication. A slot list cached
 * before such a change may still sit in Redis under the professional's old version (its bump failed
 * during a Redis outage, or is just under way), so the slot cache is bypassed until the relay has
 * bumped the version and published the event. Reads the few unpublished rows only (partial
 * index on published_at of unprocessed rows).
 */
export async function hasUnpublishedAppointmentEvents(professionalId: string): Promise<boolean> {
  const db = await getDb();
  const row = await db.outboxEvent.findFirst({
    where: {
      publishedAt: null,
      processedAt: null, // what the relay publishes: a row it never will must not bypass the cache forever
      type: { startsWith: APPOINTMENT_EVENT_PREFIX },
      payload: { path: ['professionalId'], equals: professionalId },
    },
    select: { id: true },
  });
  return row !== null;
}
