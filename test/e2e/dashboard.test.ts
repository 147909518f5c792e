/**
 * The queue dashboard (Bull Board) in the worker container: on the health port under /admin/queues,
 * behind HTTP basic auth, and not mounted at all without DASHBOARD_PASSWORD; from source and from
 * the single-file bundle the Docker image runs.
 */
import { readdirSync, rmSync } from 'node:fs';
import { startWorker, type Worker } from '../support/processes';
import { buildWorkerBundle } from '../support/worker-bundle';

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

describe('from the worker bundle the Docker image ships', () => {
  let dir: string;
  let worker: Worker;
  let base: string;
  beforeAll(async () => {
    dir = buildWorkerBundle();
    worker = await startWorker({ DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD }, { bundleDir: dir });
    base = worker.healthUrl.replace(/\/health$/, '');
  }, 120_000);
  afterAll(async () => {
    await worker?.stop('SIGTERM').catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("carries Bull Board's page and assets beside main.js", () => {
    expect(readdirSync(dir).sort()).toEqual(['bull-board-ui', 'main.js', 'main.js.map']);
    expect(worker.output()).toContain('worker.dashboard_mounted');
    expect(worker.output()).not.toContain('worker.dashboard_unavailable');
  });

  it('serves the page and every static asset it links behind basic auth, and the API', async () => {
    const headers = { authorization: basic(USER, PASSWORD) };
    expect((await fetch(`${base}/admin/queues`)).status).toBe(401);

    const page = await fetch(`${base}/admin/queues`, { headers });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    // The page's links are relative to its <base href>.
    const baseHref = /<base href="([^"]+)"/.exec(html)?.[1];
    expect(baseHref).toBe('/admin/queues/');
    const assets = [...html.matchAll(/(?:href|src)="(static\/[^"]+\.(?:js|css))"/g)].map((m) => new URL(m[1]!, `${base}${baseHref}`).toString());
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const url of assets) {
      const res = await fetch(url, { headers });
      expect([url, res.status]).toEqual([url, 200]);
      expect(res.headers.get('content-type')).toMatch(url.endsWith('.css') ? /text\/css/ : /javascript/);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect((await fetch(assets[0]!)).status).toBe(401);

    const api = await fetch(`${base}/admin/queues/api/queues`, { headers });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['agenda', 'notification', 'renovacao', 'webhook']);
  });
});
