/**
 * ANTI-PATTERN. This file exists only to be measured against (npm run bench, "connection reuse").
 * It opens a pg Pool, a Prisma client and an ioredis client on EVERY invocation and closes them at
 * the end: a handshake per call, and under concurrency one server connection per in-flight call,
 * which is how serverless code exhausts PostgreSQL. Product code must use getDb()/getRedis() from
 * lib/; the no-`new PrismaClient/Pool/Redis`-outside-lib rule exempts bench/ for this file alone.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { getConfig } from '../../lib/platform/config';
import { PrismaClient } from '../../lib/platform/db/generated/client';
import { publicRoute } from '../../lib/http/routes/public';
import { json } from '../../lib/http/response';
import { BENCH_CLINIC_ID, BENCH_REDIS_KEY, PER_INVOCATION_APP_NAME } from './fixtures';

/** Connections this handler's clients reported opening (client side; the bench cross-checks the servers). */
export const perInvocationOpened = { postgres: 0, redis: 0 };

export const perInvocationHandler = publicRoute(async (_event, invocation) => {
  const { db: dbConfig, redis: redisConfig } = getConfig();
  const pool = new Pool({
    connectionString: dbConfig.url,
    max: 1,
    connectionTimeoutMillis: dbConfig.connectTimeoutMs,
    application_name: PER_INVOCATION_APP_NAME,
  });
  pool.on('connect', () => (perInvocationOpened.postgres += 1));
  const db = new PrismaClient({ adapter: new PrismaPg(pool) });
  const redis = new Redis(redisConfig.url, {
    lazyConnect: true,
    connectTimeout: redisConfig.connectTimeoutMs,
    maxRetriesPerRequest: 1,
    connectionName: PER_INVOCATION_APP_NAME,
  });
  redis.on('connect', () => (perInvocationOpened.redis += 1));
  redis.on('error', () => undefined); // surfaces through connect()/get() instead
  try {
    const clinic = await db.clinic.findUnique({ where: { id: BENCH_CLINIC_ID }, select: { id: true, name: true } });
    await redis.connect();
    const cached = await redis.get(BENCH_REDIS_KEY);
    return json(200, { clinic, cached, invocation: invocation.invocation });
  } finally {
    await db.$disconnect();
    await pool.end();
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
});
