import { getConfig } from '../../platform/config';
import { getDb, getPoolIfCreated } from '../../platform/db/client';
import { poolStats } from '../../platform/db/pool';
import type { InvocationInfo } from '../../platform/observability/container';

/**
 * A socket client's liveness probe. It also proves the socket profile's lazy pool: the first ping
 * opens the container's single connection, later pings reuse it.
 */
export async function socketPing(invocation: InvocationInfo) {
  const db = await getDb();
  await db.$queryRaw`SELECT 1`;
  const pool = getPoolIfCreated();
  return {
    type: 'pong',
    profile: getConfig().profile,
    ...invocation,
    database: { status: 'up', ...(pool && { pool: poolStats(pool) }) },
  };
}
