import type { Redis } from 'ioredis';
import { useSuite } from '../support/suite';

/** The options each profile's Redis client really gets, read from the live client. */
const suite = useSuite({
  // Each test sets its own profile; these are restored after the suite.
  env: { AGENDA_PROFILE: undefined, REDIS_COMMAND_TIMEOUT_MS: undefined, REDIS_OFFLINE_QUEUE: undefined },
  modules: { redis: () => import('../../lib/platform/redis/client') },
});
const { redis } = suite.m;

/** A new container started under `env`, and its Redis client (one server: the cluster's are in redis-cluster.test.ts). */
async function clientFor(env: Record<string, string>) {
  Object.assign(process.env, env);
  await suite.reload();
  return (await redis.getRedis()) as Redis;
}

it('functions fail fast: no offline queue, command and socket timeouts', async () => {
  const client = await clientFor({ AGENDA_PROFILE: 'api' });
  expect(client.options).toMatchObject({ enableOfflineQueue: false, commandTimeout: 1000, socketTimeout: 1000, maxRetriesPerRequest: 1 });
});

it('the worker waits, as BullMQ requires, even when the environment asks for timeouts', async () => {
  const client = await clientFor({ AGENDA_PROFILE: 'worker', REDIS_COMMAND_TIMEOUT_MS: '500', REDIS_OFFLINE_QUEUE: 'false' });
  expect(client.options.maxRetriesPerRequest).toBeNull();
  expect(client.options.commandTimeout).toBeUndefined();
  expect(client.options.socketTimeout).toBeUndefined();
  expect(client.options.enableOfflineQueue).toBe(true);
});
