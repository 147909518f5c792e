import { getDb } from '../../lib/platform/db/client';
import { publicRoute } from '../../lib/http/routes/public';
import { json } from '../../lib/http/response';
import { getRedis } from '../../lib/platform/redis/client';
import { BENCH_CLINIC_ID, BENCH_REDIS_KEY } from './fixtures';

/**
 * The product's pattern: the container's singletons (one pg Pool under one Prisma client, one
 * ioredis client), opened on the first invocation and reused by every warm one after it.
 */
export const singletonHandler = publicRoute(async (_event, invocation) => {
  const db = await getDb();
  const clinic = await db.clinic.findUnique({ where: { id: BENCH_CLINIC_ID }, select: { id: true, name: true } });
  const redis = await getRedis();
  const cached = await redis.get(BENCH_REDIS_KEY);
  return json(200, { clinic, cached, invocation: invocation.invocation });
});
