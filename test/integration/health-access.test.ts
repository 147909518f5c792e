/**
 * GET /health through its real handler: anyone gets `{status}` and the status code, nothing about
 * the topology; the operator's `Authorization: Bearer <ADMIN_SECRET>` gets the full report. An API
 * key, a wrong secret or another scheme is "anyone".
 */
import { adminHeaders, get, getHealth } from '../support/invoke';
import { newClinic } from '../support/clinic';
import { useSuite } from '../support/suite';

const { health } = useSuite({ modules: { health: () => import('../../functions/http/health') } }).m;

describe('GET /health', () => {
  it('answers only {status} without the admin secret', async () => {
    const { key } = await newClinic();
    const secret = process.env.ADMIN_SECRET!;
    for (const authorization of [undefined, `Bearer ${key}`, `Bearer ${secret}x`, `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`, secret]) {
      const res = await get(health.handler, '/health', authorization ? { headers: { authorization } } : {});
      expect([authorization, res.status, res.body]).toEqual([authorization, 200, { status: 'ok' }]);
    }
  });

  it('gives the operator the full report', async () => {
    expect(adminHeaders().authorization).toMatch(/^Bearer .{16,}/);
    const res = await getHealth(health.handler);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      down: [],
      checks: { database: { status: 'up', pool: expect.any(Object) }, redis: { status: 'up' } },
      budget: { profile: 'api' },
      invocation: expect.any(Object),
    });
  });
});
