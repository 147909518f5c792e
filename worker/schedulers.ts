import { getConfig } from '../lib/config';
import { logger } from '../lib/observability/logger';
import { getAgendaQueue } from '../lib/queues/queues';

/**
 * Job schedulers of the worker (BullMQ 6 `upsertJobScheduler`: one scheduler per id however many
 * workers upsert it): the outbox relay republishes events a failed enqueue left behind; the expiry
 * scan emits `control.expiring` for session packages ending soon.
 */
export async function startSchedulers(): Promise<void> {
  const { worker } = getConfig();
  const agenda = await getAgendaQueue();
  const retention = { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } };
  const schedulers = [
    { id: 'outbox-relay', everyMs: worker.outboxRelayEveryMs, name: 'outbox.relay' as const },
    { id: 'controls-expiry-scan', everyMs: worker.controlExpiryScanEveryMs, name: 'controls.expiry_scan' as const },
  ];
  for (const s of schedulers) {
    await agenda.upsertJobScheduler(s.id, { every: s.everyMs }, { name: s.name, data: {}, opts: retention });
  }
  logger.info('worker.schedulers_started', { schedulers: schedulers.map(({ id, everyMs }) => ({ id, everyMs })) });
}
