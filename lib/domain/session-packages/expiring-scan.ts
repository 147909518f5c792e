import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { logger } from '../../platform/observability/logger';
import { publishEvents, recordEvent } from '../events/outbox';

/**
 * One scan for session packages that end within CONTROL_EXPIRING_DAYS: each gets exactly one
 * `control.expiring` event, however often the scan runs and however many workers run it (a
 * per-package transaction lock, then a check for an earlier event), so receivers can warn a
 * patient once; renewing is the renewal scan's job (./renewal-scan.ts).
 */
export async function scanExpiringControls(now = new Date(), limit = 500): Promise<{ found: number; emitted: number }> {
  const db = await getDb();
  const horizon = new Date(now.getTime() + getConfig().controlExpiringDays * 86_400_000);
  const candidates = await db.appointmentControl.findMany({
    where: { status: 'active', validUntil: { gt: now, lte: horizon } },
    select: { id: true, clinicId: true, patientId: true, validUntil: true, sessionsTotal: true, sessionsUsed: true },
    orderBy: { validUntil: 'asc' },
    take: limit,
  });
  const eventIds: string[] = [];
  for (const c of candidates) {
    const eventId = await inTransaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${c.id}, 0))`;
      const already = await tx.outboxEvent.count({ where: { type: 'control.expiring', aggregateId: c.id } });
      if (already > 0) return undefined;
      return recordEvent(tx, {
        clinicId: c.clinicId,
        type: 'control.expiring',
        aggregateId: c.id,
        payload: {
          controlId: c.id,
          patientId: c.patientId,
          validUntil: c.validUntil.toISOString(),
          sessionsRemaining: c.sessionsTotal - c.sessionsUsed,
        },
      });
    });
    if (eventId) eventIds.push(eventId);
  }
  await publishEvents(eventIds);
  if (eventIds.length > 0) logger.info('controls.expiring_emitted', { found: candidates.length, emitted: eventIds.length });
  return { found: candidates.length, emitted: eventIds.length };
}
