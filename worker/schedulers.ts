import { getConfig } from '../lib/platform/config';
import { logger } from '../lib/platform/observability/logger';
import { getAgendaQueue, getRenovacaoQueue } from '../lib/platform/queues/queues';

/** The renewal scan's scheduler id on the `renovacao` queue: one scheduler however many workers upsert it. */
export const RENEWAL_SCAN_SCHEDULER_ID = 'renewals-scan';

/**
 * Job schedulers of the worker (BullMQ 6 `upsertJobScheduler`: one scheduler per id however many
 * workers upsert it): the outbox relay republishes events a failed enqueue left behind; the expiry
 * scan emits `control.expiring` for session packages ending soon; the no-show sweep closes
 * appointments left open past their end, for clinics that turned it on; the socket sweep forgets
 * WebSocket rows API Gateway has closed (lib/domain/realtime/sweep.ts); the retention purge drops
 * what each clinic keeps no longer, and old job history (lib/jobs/processors/retention-purge.ts).
 */
export async function startSchedulers(): Promise<void> {
  const { worker } = getConfig();
  const agenda = await getAgendaQueue();
  const retention = { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } };
  const schedulers = [
    { id: 'outbox-relay', everyMs: worker.outboxRelayEveryMs, name: 'outbox.relay' as const },
    { id: 'controls-expiry-scan', everyMs: worker.controlExpiryScanEveryMs, name: 'controls.expiry_scan' as const },
    { id: 'appointments-no-show-sweep', everyMs: worker.noShowSweepEveryMs, name: 'appointments.no_show_sweep' as const },
    { id: 'idempotency-purge', everyMs: worker.idempotencyPurgeEveryMs, name: 'idempotency.purge' as const },
    { id: 'sockets-sweep', everyMs: worker.socketSweepEveryMs, name: 'sockets.sweep' as const },
    { id: 'retention-purge', everyMs: worker.retentionPurgeEveryMs, name: 'retention.purge' as const },
  ];
  for (const s of schedulers) {
    await agenda.upsertJobScheduler(s.id, { every: s.everyMs }, { name: s.name, data: {}, opts: retention });
  }
  // Renewal scan: a pass every hour (cron, so a restart does not shift it; default :15 UTC), each
  // for the clinics whose own local hour is RENEWAL_SCAN_LOCAL_HOUR (default 3: after midnight,
  // before opening hours), so each clinic is scanned once a day in its 03:00 hour. Every local hour
  // holds one pass whatever the zone's offset (03:45 at +05:30). The hour travels in the job, so the
  // job Lambda scans the same clinics as the container would; the slot is read from the job itself
  // (worker/dispatch.ts), so a retry or a late run scans the slot's clinics, not the current hour's.
  const renovacao = await getRenovacaoQueue();
  const renewalScan = { pattern: worker.renewalScanPattern, tz: 'UTC', localHour: worker.renewalScanLocalHour };
  await renovacao.upsertJobScheduler(
    RENEWAL_SCAN_SCHEDULER_ID,
    { pattern: renewalScan.pattern, tz: renewalScan.tz },
    { name: 'renewals.scan', data: { localHour: renewalScan.localHour }, opts: retention },
  );
  logger.info('worker.renewal_scheduler_started', { id: RENEWAL_SCAN_SCHEDULER_ID, ...renewalScan });
  logger.info('worker.schedulers_started', { schedulers: schedulers.map(({ id, everyMs }) => ({ id, everyMs })) });
}
