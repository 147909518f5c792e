/**
 * What the worker does with an aggregate's events, run in the test's own container: each event of
 * the aggregate not yet processed must have been published (its `domain.event` job is in the
 * agenda queue), and is processed through the product's processor, oldest first. Reminders, webhook
 * deliveries and notices follow from the events, never from the request.
 */
export interface EventLib {
  getDb: typeof import('../../lib/platform/db/client').getDb;
  getAgendaQueue: typeof import('../../lib/platform/queues/queues').getAgendaQueue;
  processDomainEvent: typeof import('../../lib/jobs/processors/domain-event').processDomainEvent;
}

export async function processPublishedEvents(lib: EventLib, aggregateId: string): Promise<string[]> {
  const db = await lib.getDb();
  const queue = await lib.getAgendaQueue();
  const events = await db.outboxEvent.findMany({ where: { aggregateId, processedAt: null }, orderBy: { createdAt: 'asc' }, select: { id: true } });
  for (const { id } of events) {
    const job = await queue.getJob(id);
    if (job?.name !== 'domain.event') throw new Error(`event ${id} of ${aggregateId} was not published`);
    await lib.processDomainEvent({ queue: 'agenda', name: 'domain.event', id, data: { eventId: id }, attemptsMade: 0, mode: 'inline' });
  }
  return events.map((e) => e.id);
}

/** The lib/ modules `processPublishedEvents` needs, from the current module registry. */
export const eventLib = (): EventLib => ({
  getDb: (require('../../lib/platform/db/client') as typeof import('../../lib/platform/db/client')).getDb,
  getAgendaQueue: (require('../../lib/platform/queues/queues') as typeof import('../../lib/platform/queues/queues')).getAgendaQueue,
  processDomainEvent: (require('../../lib/jobs/processors/domain-event') as typeof import('../../lib/jobs/processors/domain-event')).processDomainEvent,
});
