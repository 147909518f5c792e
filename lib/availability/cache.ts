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
 * Drops every cached slot range of the given professionals. Call after the change committed.
 * Never throws: the change already happened. Returns false when Redis failed (an outage): an
 * appointment change then leaves its events to the relay, which bumps before it publishes them
 * (lib/outbox/relay.ts), and until then slot reads of the professional skip the cache.
 */
export async function bumpSlotVersions(professionalIds: string[]): Promise<boolean> {
  if (professionalIds.length === 0) return true;
  try {
    const redis = await getRedis();
    const pipeline = redis.pipeline();
    for (const id of professionalIds) pipeline.incr(versionKey(id));
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err)?.[0];
    if (failed) throw failed;
    if (results.length !== professionalIds.length) throw new Error('pipeline incomplete');
    return true;
  } catch (err) {
    logger.warn('availability.invalidate_failed', { professionals: professionalIds.length, error: (err as Error).message });
    return false;
  }
}

/**
 * Drops every cached slot range of a professional, for changes without an appointment event
 * (working hours, time off, buffers). A Redis failure is logged, not thrown: the change already
 * happened, cached entries expire within their TTL (SLOTS_CACHE_TTL_SECONDS), and the database
 * still refuses a booking the change forbids.
 */
export async function invalidateSlots(professionalId: string): Promise<void> {
  await bumpSlotVersions([professionalId]);
}
