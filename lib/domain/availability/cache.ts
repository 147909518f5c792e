import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import { getRedis } from '../../platform/redis/client';

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
 * Bumps the professionals' versions; false when Redis did not take every bump. One INCR each, sent
 * together (one round trip on one server), not a pipeline: on a Redis Cluster the version keys of
 * different professionals live in different slots, which one pipeline cannot span.
 */
async function bumpVersions(professionalIds: string[]): Promise<boolean> {
  try {
    const redis = await getRedis();
    const results = await Promise.allSettled(professionalIds.map((id) => redis.incr(versionKey(id))));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return true;
  } catch (err) {
    logger.warn('availability.invalidate_failed', { professionals: professionalIds.length, error: (err as Error).message });
    return false;
  }
}

/**
 * Drops every cached slot range of a professional. Call after the change committed; never throws
 * (the change already happened). When Redis cannot take the bump (an outage), the professional is
 * marked stale in PostgreSQL instead: slot reads then skip the cache (the mark comes with the
 * professional row they read anyway), until the relay drops the lists and clears the mark
 * (`dropStaleSlotCaches`). So no list cached before the outage is served once Redis is back.
 */
export async function invalidateSlots(professionalId: string): Promise<void> {
  if (await bumpVersions([professionalId])) return;
  try {
    const db = await getDb();
    await db.$executeRaw`UPDATE professionals SET slot_cache_stale_since = now() WHERE id = ${professionalId}::uuid`;
  } catch (err) {
    // Both stores down: the cached lists expire within SLOTS_CACHE_TTL_SECONDS, and the database
    // still refuses a booking the change forbids.
    logger.error('availability.stale_mark_failed', { professionalId, error: (err as Error).message });
  }
}

/**
 * The relay's part: drops the cached lists of professionals marked stale during an outage and
 * clears their marks, unless one was set again meanwhile (after this pass's bump). Returns how
 * many were dropped; none while Redis still cannot take the bumps.
 */
export async function dropStaleSlotCaches(limit = 500): Promise<number> {
  const db = await getDb();
  const rows = await db.$queryRaw<{ id: string; now: Date }[]>`
    SELECT id, now() AS now FROM professionals WHERE slot_cache_stale_since IS NOT NULL LIMIT ${limit}`;
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  if (!(await bumpVersions(ids))) return 0;
  await db.$executeRaw`
    UPDATE professionals SET slot_cache_stale_since = NULL
     WHERE id = ANY(${ids}::uuid[]) AND slot_cache_stale_since <= ${rows[0]!.now}`;
  logger.info('availability.stale_caches_dropped', { professionals: ids.length });
  return ids.length;
}
