import { getDb } from '../../platform/db/client';

/** An in-app notice older than this is stale news: marked `skipped` (`expired`) instead of pushed. */
export const IN_APP_MAX_AGE_MS = 24 * 3_600_000;

/**
 * Marks undelivered in-app notices past the maximum age `skipped` (`expired`), every clinic's, in
 * the worker's socket sweep: deliveries never pick them anyway (the claim's cutoff), so this only
 * records their end, and stays off the subscribe and event paths.
 */
export async function expireInAppNotices(now = new Date()): Promise<number> {
  const db = await getDb();
  const { count } = await db.notification.updateMany({
    where: { channel: 'in_app', status: { in: ['pending', 'failed'] }, createdAt: { lt: new Date(now.getTime() - IN_APP_MAX_AGE_MS) } },
    data: { status: 'skipped', skipReason: 'expired' },
  });
  return count;
}
