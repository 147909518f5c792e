/** The options each profile's Redis client really gets, read from the live client. */
type RedisModule = typeof import('../../lib/redis/client');

async function clientFor(env: Record<string, string>) {
  jest.resetModules();
  Object.assign(process.env, env);
  const mod: RedisModule = await import('../../lib/redis/client');
  const client = await mod.getRedis();
  return { client, close: () => mod.closeRedis() };
}

afterEach(() => {
  for (const k of ['AGENDA_PROFILE', 'REDIS_COMMAND_TIMEOUT_MS', 'REDIS_OFFLINE_QUEUE']) delete process.env[k];
});

it('functions fail fast: no offline queue, command and socket timeouts', async () => {
  const { client, close } = await clientFor({ AGENDA_PROFILE: 'api' });
  expect(client.options).toMatchObject({ enableOfflineQueue: false, commandTimeout: 1000, socketTimeout: 1000, maxRetriesPerRequest: 1 });
  await close();
});

it('the worker waits, as BullMQ requires, even when the environment asks for timeouts', async () => {
  const { client, close } = await clientFor({ AGENDA_PROFILE: 'worker', REDIS_COMMAND_TIMEOUT_MS: '500', REDIS_OFFLINE_QUEUE: 'false' });
  expect(client.options.maxRetriesPerRequest).toBeNull();
  expect(client.options.commandTimeout).toBeUndefined();
  expect(client.options.socketTimeout).toBeUndefined();
  expect(client.options.enableOfflineQueue).toBe(true);
  await close();
});
