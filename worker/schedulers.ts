import { getConfig } from '../lib/config';
import { logger } from '../lib/observability/logger';
import { getAgendaQueue, getRenovacaoQueue } from '../lib/queues/queues';

/** The renewal scan's scheduler id on the `renovacao` queue: one scheduler however many workers upsert it. */
export const RENEWAL_SCAN_SCHEDULER_ID = 'renewals-scan';

/**
 * Job schedulers of the worker (BullMQ 6 `upsertJobScheduler`: one scheduler per id however many
 * workers upsert it): the outbox relay republishes events a failed enqueue left behind; the expiry
 * scan emits `control.expiring` for session packages ending soon; the no-show sweep closes
 * appointments left open past their end, for clinics that turned it on; the socket sweep forgets
 * WebSocket rows API Gateway has closed (lib/realtime/sweep.ts).
 */
export async function startSchedulers(): Promise<void> {
  const { worker } = getConfig();
  const agenda = await getAgendaQueue();
  const retention = { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } };
  const schedulers = [
    { id: 'outbox-relay', everyMs: worker.outboxRelayEveryMs, name: 'outbox.relay' as const },
    { id: 'controls-expiry-scan', everyMs: worker.controlExpiryScanEveryMs, name: 'controls.expiry_scan' as const },
    { id: 'appointments-no-show-sweep', everyMs: worker.noShowSweepEveryMs, name: 'appointments.no_show_sweep' as const },
    { id: 'sockets-sweep', everyMs: worker.socketSweepEveryMs, name: 'sockets.sweep' as const },
  ];
  for (const s of schedulers) {
    await agenda.upsertJobScheduler(s.id, { every: s.everyMs }, { name: s.name, data: {}, opts: retention });
  }
  // Renewal scan: once a day on a cron pattern, not `every`, so it runs at a fixed local hour
  // (default 03:15 America/Sao_Paulo, where the clinics are: after midnight in every Brazilian zone,
  // before opening hours) and a worker restart does not shift it. The scan itself compares local
  // dates in each clinic's own zone. Configurable: RENEWAL_SCAN_PATTERN, RENEWAL_SCAN_TZ.
  const renovacao = await getRenovacaoQueue();
  await renovacao.upsertJobScheduler(
    RENEWAL_SCAN_SCHEDULER_ID,
    { pattern: worker.renewalScanPattern, tz: worker.renewalScanTz },
    { name: 'renewals.scan', data: {}, opts: retention },
  );
  logger.info('worker.renewal_scheduler_started', { id: RENEWAL_SCAN_SCHEDULER_ID, pattern: worker.renewalScanPattern, tz: worker.renewalScanTz });
  logger.info('worker.schedulers_started', { schedulers: schedulers.map(({ id, everyMs }) => ({ id, everyMs })) });
}
