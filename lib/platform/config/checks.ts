import { hashTagOf } from './parsers';
import type { Config } from './schema';
import { TABLE } from './table';

const { poolMin, poolMax } = TABLE.db;
const { clusterNodes } = TABLE.redis;
const { prefix } = TABLE.queues;

/** Rules across variables, which no single parser can see; each returns its issue, or nothing. */
export const CROSS_CHECKS: ReadonlyArray<(config: Config) => string | undefined> = [
  ({ db }) =>
    db.poolMin > db.poolMax ? `${poolMin.name} (${db.poolMin}) must not exceed ${poolMax.name} (${db.poolMax})` : undefined,
  // Refused here rather than at the first enqueue, where Redis would answer CROSSSLOT on one script and not another.
  ({ redis, queues }) =>
    redis.clusterNodes && !hashTagOf(queues.prefix)
      ? `${prefix.name} (${queues.prefix}) needs a {hash tag}, e.g. {${queues.prefix}}, when ${clusterNodes.name} is set: ` +
        `BullMQ's Lua scripts touch several keys of a queue at once, and Redis Cluster runs a script only when all its keys are in one slot`
      : undefined,
];
