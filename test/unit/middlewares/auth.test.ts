/** adminAuth: the admin secret is checked before anything else of the stack runs (clinicAuth, on a real key: test/integration/edge-middlewares.test.ts). */
import { adminAuth } from '../../../lib/http/middlewares/admin-auth';
import { httpErrors } from '../../../lib/http/middlewares/http-errors';
import { json } from '../../../lib/http/response';
import { httpContext, httpEvent, runStage } from '../../support/http-stage';

const ok = async () => json(200, { ok: true });
const bearer = (token: string) => httpEvent({ headers: { authorization: `Bearer ${token}` } });
const errorOf = (res: { body?: string }) => JSON.parse(res.body!).error;

describe('adminAuth', () => {
  it('lets the right secret through, in any letter case of the scheme', async () => {
    const admin = adminAuth(() => 's3cret');
    expect((await runStage([httpErrors(), admin], ok, bearer('s3cret'))).statusCode).toBe(200);
    expect((await runStage([httpErrors(), admin], ok, httpEvent({ headers: { Authorization: 'bearer s3cret' } }))).statusCode).toBe(200);
  });

  it('refuses a wrong or missing secret with 401, before the route runs', async () => {
    const route = jest.fn(ok);
    for (const event of [bearer('s3cre'), bearer('s3cret-and-more'), httpEvent()]) {
      const res = await runStage([httpErrors(), adminAuth(() => 's3cret')], route, event);
      expect(res.statusCode).toBe(401);
      expect(errorOf(res).message).toBe('Missing or invalid admin credentials');
    }
    expect(route).not.toHaveBeenCalled();
  });

  it('keeps the admin routes closed when no secret is configured', async () => {
    for (const secret of [undefined, '']) {
      const res = await runStage([httpErrors(), adminAuth(() => secret)], ok, bearer('anything'));
      expect(res.statusCode).toBe(401);
      expect(errorOf(res).message).toBe('Admin API disabled: ADMIN_SECRET is not set');
    }
  });
});
