import { expireInAppNotices } from '../../domain/notifications/in-app-expiry';
import { sweepSocketRows, type SweepOutcome } from '../../domain/realtime/sweep';
import { purgeExpiredTickets } from '../../domain/realtime/tickets';
import { logger } from '../../platform/observability/logger';

/**
 * `sockets.sweep` (worker scheduler): forgets socket rows whose `$disconnect` never arrived, then
 * records the end of in-app notices too old to push and deletes socket tickets expired unused (the
 * sockets' housekeeping, off the delivery paths), and logs one line for all.
 */
export async function processSocketsSweep(
  now = new Date(),
): Promise<Omit<SweepOutcome, 'more'> & { noticesExpired: number; ticketsPurged: number }> {
  const { expired, closed, more } = await sweepSocketRows(now);
  const noticesExpired = await expireInAppNotices(now);
  const ticketsPurged = await purgeExpiredTickets(now);
  logger.info('socket.swept', { expired, ...closed, noticesExpired, ticketsPurged, more });
  return { expired, closed, noticesExpired, ticketsPurged };
}
