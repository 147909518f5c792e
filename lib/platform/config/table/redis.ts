import { env, none, secret } from '../variable';
import { bool, int, keyPrefix, redisNodeUrls, redisUrl } from '../parsers';

/**
 * The Redis link. Functions fail fast and, after one failed wait, stop waiting for a while; the
 * worker waits through an outage (its blocking BullMQ commands must never time out).
 */
export const REDIS = {
  url: secret(env('REDIS_URL', redisUrl, 'redis://127.0.0.1:6379',
    'The Redis server (rediss:// for TLS); not used when REDIS_CLUSTER_NODES is set.')),
  // Secret too: node URLs carry the AUTH password.
  clusterNodes: secret(env('REDIS_CLUSTER_NODES', redisNodeUrls, none,
    'Redis Cluster: comma-separated node URLs of one scheme (some or all nodes); replaces REDIS_URL.')),
  connectTimeoutMs: env('REDIS_CONNECT_TIMEOUT_MS', int(100, 60_000), { api: 1_000, worker: 10_000 },
    'Bound on opening the connection.'),
  commandTimeoutMs: env('REDIS_COMMAND_TIMEOUT_MS', int(0, 60_000), { api: 1_000, worker: 0 },
    'Bound on each command in functions (0: none; the worker never has one).'),
  readyTimeoutMs: env('REDIS_READY_TIMEOUT_MS', int(100, 300_000), { api: 1_500, worker: 30_000 },
    'How long a caller waits for a ready link before failing.'),
  maxReconnectDelayMs: env('REDIS_MAX_RECONNECT_DELAY_MS', int(10, 60_000), { api: 1_000, worker: 5_000 },
    'Ceiling of the growing delay between reconnects.'),
  // Worker: 15 in a row is about 51 s while Redis refuses; it then drains and exits 75 for a restart.
  reconnectAttempts: env('REDIS_RECONNECT_ATTEMPTS', int(0, 10_000), { api: 10, worker: 15 },
    'Failed reconnects in a row before the client gives up (status `end`); 0: never.'),
  // A request uses Redis several times (rate limit, slot cache, publish): one bounded wait per outage, not one per call.
  downRetryAfterMs: env('REDIS_DOWN_RETRY_AFTER_MS', int(0, 600_000), { api: 5_000, worker: 0 },
    'Functions: after a failed wait for a ready link, Redis calls fail at once for this long (0: never).'),
  offlineQueue: env('REDIS_OFFLINE_QUEUE', bool, { api: false, worker: true },
    'Whether commands queue while disconnected (always in the worker).'),
};

/** BullMQ's queues, on the Redis link above. */
export const QUEUES = {
  // A cluster needs the hash tag (lib/platform/config/checks.ts); a single node keeps the keys it always had.
  prefix: env('QUEUE_PREFIX', keyPrefix, (e) => (e.REDIS_CLUSTER_NODES ? '{agenda}' : 'agenda'),
    'Prefix of every queue key, so deployments can share one Redis; on a cluster a {hash tag}.'),
  connectAttempts: env('QUEUE_CONNECT_ATTEMPTS', int(1, 10), 3,
    'PINGs before a queue is created; functions fit them all in REDIS_READY_TIMEOUT_MS.'),
};
