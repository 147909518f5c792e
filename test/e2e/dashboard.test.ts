/**
 * The queue dashboard (Bull Board) in the worker container: on the health port under /admin/queues,
 * behind HTTP basic auth, and not mounted at all without DASHBOARD_PASSWORD.
 */
import { startWorker, type Worker } from '../support/processes';

const USER = 'ops';
const PASSWORD = 'dashboard-test-password';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const workers: Worker[] = [];

afterAll(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGTERM').catch(() => undefined)));
});

describe('with DASHBOARD_PASSWORD', () => {
  let base: string;
  beforeAll(async () => {
    const w = await startWorker({ DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD });
    workers.push(w);
    base = w.healthUrl.replace(/\/health$/, '');
  }, 60_000);

  it('answers 401 with WWW-Authenticate without credentials or with wrong ones', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: basic(USER, 'wrong-password-x') }, { authorization: basic('admin', PASSWORD) }, { authorization: 'Bearer x' }]) {
      const res = await fetch(`${base}/admin/queues`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
    // The API behind it too.
    expect((await fetch(`${base}/admin/queues/api/queues`)).status).toBe(401);
  });

  it('serves the HTML page and lists the four queues with credentials', async () => {
    const headers = { authorization: basic(USER, PASSWORD) };
    const page = await fetch(`${base}/admin/queues`, { headers });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<html/i);

    const api = await fetch(`${base}/admin/queues/api/queues`, { headers });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['agenda', 'notification', 'renovacao', 'webhook']);
  });

  it('leaves /health as it was', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
  });
});

describe('without DASHBOARD_PASSWORD', () => {
  it('does not mount the dashboard: 404', async () => {
    const w = await startWorker({ DASHBOARD_PASSWORD: '' });
    workers.push(w);
    const base = w.healthUrl.replace(/\/health$/, '');
    const res = await fetch(`${base}/admin/queues`, { headers: { authorization: basic('admin', 'anything-at-all') } });
    expect(res.status).toBe(404);
    expect((await fetch(`${base}/admin/queues/api/queues`)).status).toBe(404);
  }, 60_000);
});
