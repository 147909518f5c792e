import { logger } from '../observability/logger';
import { getRedis } from '../redis/client';

/**
 * Slot results are cached per professional under a version number; any change that affects a
 * professional's availability bumps the version, so every cached range of theirs is dropped at
 * once without scanning keys. Old versions expire on their own.
 */
const versionKey = (professionalId: string) => `slots:ver:${professionalId}`;

export async function slotsCacheKey(professionalId: string, rangeKey: string): Promise<string> {
  const redis = await getRedis();
  const version = (await redis.get(versionKey(professionalId))) ?? '0';
  return `slots:${professionalId}:v${version}:${rangeKey}`;
}

/**
 * Drops every cached slot range of a professional. Call after the change committed. A Redis failure
 * here is logged, not thrown: the change already happened, and cached entries expire within their
 * TTL, so the worst case is a briefly stale answer that the database still refuses to double-book.
 */
export async function invalidateSlots(professionalId: string): Promise<void> {
  try {
    const redis = await getRedis();
    await redis.incr(versionKey(professionalId));
  } catch (err) {
    logger.warn('availability.invalidate_failed', { professionalId, error: (err as Error).message });
  }
}
