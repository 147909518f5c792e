import { getHealth } from '../support/invoke';
import { startWorker } from '../support/processes';
import { startScratchRedis, type ScratchRedis } from '../support/redis-server';

// BullMQ loses jobs when Redis may evict keys. A scratch server with such a policy stands in for a
// misconfigured one; the shared server keeps noeviction.
let redis: ScratchRedis;

beforeAll(async () => {
  // BullMQ prints its own warning for this policy; expected here.
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  redis = await startScratchRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
  process.env.REDIS_URL = redis.url;
});

afterAll(async () => {
  await require('../../lib/platform/lifecycle/close-all').closeAll();
  await redis.stop();
});

describe('Redis eviction policy', () => {
  it('the worker refuses to start, saying why', async () => {
    const attempt = startWorker({ REDIS_URL: redis.url });
    await expect(attempt).rejects.toThrow(/maxmemory-policy is "allkeys-lru", but BullMQ needs "noeviction"/);
  });

  it('/health reports it as degraded with a warning', async () => {
    const { handler } = require('../../functions/http/health');
    const res = await getHealth(handler);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.checks.redis).toMatchObject({ status: 'up', evictionPolicy: 'allkeys-lru', evictionSafe: false });
    expect(res.body.warnings[0]).toMatch(/noeviction/);
  });
});
