import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import { publishEvents } from '../events/outbox';
import { expireEnded } from './expire';
import { openRenewalRequest, renewControl } from './renewal';
import { lookbackStart, renewalHorizon, zonesAtLocalHour } from './renewal-window';

export interface ScanOptions {
  /**
   * The instant of the pass; it decides which clinics are due and what "today" is for each. A
   * scheduled pass gives its slot, not the time it runs: a retry or a late run then scans the same
   * clinics the slot was for, instead of the next hour's (which keep their own pass).
   */
  now?: Date;
  /**
   * Only clinics whose local hour at `now` is this one are scanned (the scheduler stamps
   * RENEWAL_SCAN_LOCAL_HOUR on the job); an hourly pass thus reaches each clinic once a day.
   */
  localHour?: number;
  pageSize?: number;
}

export interface ScanResult {
  localHour: number;
  clinics: number;
  candidates: number;
  renewed: number;
  requested: number;
  /** Packages whose end is older than the lookback, now stored `expired` and left alone for good. */
  expired: number;
  /** Their pending renewal requests, dismissed with the expiry (lib/domain/session-packages/expire.ts). */
  dismissed: number;
  failed: number;
}

interface Clinic {
  id: string;
  timeZone: string;
}

/** Clinics due in this pass, a page at a time, by id. */
async function* dueClinics(now: Date, hour: number): AsyncGenerator<Clinic> {
  const db = await getDb();
  const stored = await db.clinic.findMany({ distinct: ['timeZone'], select: { timeZone: true } });
  const zones = zonesAtLocalHour(stored.map((c) => c.timeZone), now, hour);
  if (zones.length === 0) return;
  let cursor: string | undefined;
  for (;;) {
    const page = await db.clinic.findMany({
      where: { timeZone: { in: zones }, ...(cursor && { id: { gt: cursor } }) },
      select: { id: true, timeZone: true },
      orderBy: { id: 'asc' },
      take: 500,
    });
    if (page.length === 0) return;
    cursor = page[page.length - 1]!.id;
    yield* page;
  }
}

/**
 * The renewal scan (job `renewals.scan` on the `renovacao` queue), run hourly for the clinics whose
 * local hour is `localHour`, so each clinic is scanned once a day at that hour in its own zone.
 * Dates are local dates in the clinic's zone. A package is acted on when it is
 * - exhausted, and ran out within the last RENEWAL_LOOKBACK_DAYS (its `updated_at`, which the
 *   booking that used its last session stamps), or
 * - active, started, and ends within CONTROL_EXPIRING_DAYS ahead or ended within the lookback;
 * automatic policy renews it (renewControl), manual policy opens one renewal request. Active or
 * exhausted packages that ended before the lookback are stored `expired` (their pending renewal
 * request dismissed) and never acted on, so a first run (or a long outage) does not renew or request
 * across a clinic's whole history.
 * A pass that is missed (worker down, a local hour skipped by a DST change) only delays the work to
 * the next day's pass: the scan is a sweep of what is due, not a reaction to one moment, and the
 * lookback covers the gap. Safe to run twice or on two workers at once: every step is once-only
 * under a row lock. A package that failed is logged and the scan throws at the end, so the job is
 * retried; the job passes its scheduled slot as `now`, so a retry scans the clinics the slot was for.
 */
export async function scanRenewals(opts: ScanOptions = {}): Promise<ScanResult> {
  const { now = new Date(), pageSize = 200 } = opts;
  const config = getConfig();
  const hour = opts.localHour ?? config.worker.renewalScanLocalHour;
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new Error(`Renewal scan: local hour ${String(hour)} is not 0-23`);
  const db = await getDb();
  const result: ScanResult = { localHour: hour, clinics: 0, candidates: 0, renewed: 0, requested: 0, expired: 0, dismissed: 0, failed: 0 };
  const requestEvents: string[] = [];
  for await (const clinic of dueClinics(now, hour)) {
    result.clinics += 1;
    const horizon = renewalHorizon(now, clinic.timeZone, config.controlExpiringDays);
    const since = lookbackStart(now, clinic.timeZone, config.renewalLookbackDays);
    // Close what ended before the window first, dismissing its open requests.
    const closed = await expireEnded(clinic.id, since, now);
    result.expired += closed.expired;
    result.dismissed += closed.dismissed;
    let cursor: string | undefined;
    for (;;) {
      const candidates = await db.appointmentControl.findMany({
        where: {
          clinicId: clinic.id,
          ...(cursor && { id: { gt: cursor } }),
          OR: [
            { status: 'exhausted', updatedAt: { gte: since } },
            { status: 'active', validFrom: { lte: now }, validUntil: { gte: since, lt: horizon } },
          ],
          // A manual package whose request is already open has nothing left to do.
          NOT: { renewalPolicy: 'manual', renewalRequest: { isNot: null } },
        },
        select: { id: true, renewalPolicy: true },
        orderBy: { id: 'asc' },
        take: pageSize,
      });
      if (candidates.length === 0) break;
      cursor = candidates[candidates.length - 1]!.id;
      for (const c of candidates) {
        result.candidates += 1;
        try {
          if (c.renewalPolicy === 'automatic') {
            const r = await renewControl(clinic.id, c.id, { by: 'scan' }, now);
            if (r.created) result.renewed += 1;
          } else {
            const eventId = await openRenewalRequest(clinic.id, c.id);
            if (eventId) {
              requestEvents.push(eventId);
              result.requested += 1;
            }
          }
        } catch (err) {
          result.failed += 1;
          logger.warn('renewals.control_failed', { clinicId: clinic.id, controlId: c.id, error: (err as Error).message });
        }
      }
      if (candidates.length < pageSize) break;
    }
  }
  await publishEvents(requestEvents);
  logger.info('renewals.scanned', { ...result });
  if (result.failed > 0) throw new Error(`Renewal scan: ${result.failed} package(s) failed; the job is retried`);
  return result;
}
