import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';

/**
 * `idempotency.purge` (worker scheduler): deletes expired keys in bounded batches, at most
 * `maxBatches` per run, off the request path. Correctness never waits for it: a claim takes over an
 * expired row by itself; the purge only keeps the table small.
 */
export async function processIdempotencyPurge(limit = 500, maxBatches = 20): Promise<{ deleted: number }> {
  const db = await getDb();
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await db.$executeRaw`
      DELETE FROM idempotency_keys WHERE id IN (
        SELECT id FROM idempotency_keys WHERE expires_at <= now() LIMIT ${limit})`;
    deleted += n;
    if (n < limit) break;
  }
  if (deleted > 0) logger.info('idempotency.purged', { deleted });
  return { deleted };
}
