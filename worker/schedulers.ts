import { logger } from '../lib/observability/logger';
import { getAgendaQueue } from '../lib/queues/queues';

/** How often the outbox relay runs (OUTBOX_RELAY_EVERY_MS, default 10 s). */
export const OUTBOX_RELAY_EVERY_MS = Number(process.env.OUTBOX_RELAY_EVERY_MS ?? 10_000);

/**
 * Job schedulers of the worker (BullMQ 6 `upsertJobScheduler`: one scheduler per id however many
 * workers upsert it). The outbox relay republishes events a failed enqueue left behind.
 */
export async function startSchedulers(): Promise<void> {
  const agenda = await getAgendaQueue();
  await agenda.upsertJobScheduler(
    'outbox-relay',
    { every: OUTBOX_RELAY_EVERY_MS },
    { name: 'outbox.relay', data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
  logger.info('worker.schedulers_started', { schedulers: [{ id: 'outbox-relay', everyMs: OUTBOX_RELAY_EVERY_MS }] });
}
