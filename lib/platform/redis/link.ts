import type { Cluster, Redis } from 'ioredis';

/**
 * The container's Redis link: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).
 * Callers that only send single-key commands, or hand the link to BullMQ, need not tell them apart;
 * what must reach every server (an eviction check, a health PING) goes through `mastersOf`.
 */
export type RedisLink = Redis | Cluster;

/** ioredis marks its Cluster with `isCluster`, which a single-node client has as false. */
export const isCluster = (c: RedisLink): c is Cluster => c.isCluster;

/**
 * The servers holding the data: the client itself, or each master a cluster client knows. A cluster
 * spreads keys over its masters, so a setting or a fault of one of them concerns some keys only.
 */
export const mastersOf = (c: RedisLink): Redis[] => (isCluster(c) ? c.nodes('master') : [c]);

/** `host:port` of a server, for messages that must say which master answered what. */
export const addressOf = (c: Redis): string => `${c.options.host ?? '?'}:${c.options.port ?? '?'}`;
