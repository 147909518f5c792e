/**
 * The queue dashboard (Bull Board) in the worker container: on a server of its own
 * (DASHBOARD_PORT), bound to loopback unless DASHBOARD_HOST says otherwise, never on the health
 * port; under /admin/queues behind HTTP basic auth; read-only unless DASHBOARD_READ_WRITE=true (add,
 * retry, clean, obliterate refused and nothing changed); not started at all without
 * DASHBOARD_PASSWORD; from source and from the single-file bundle the Docker image runs.
 */
import { readdirSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { startWorker, type Worker } from '../support/processes';
import { useSuite } from '../support/suite';
import { buildWorkerBundle } from '../support/worker-bundle';

const USER = 'ops';
const PASSWORD = 'dashboard-test-password';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const workers: Worker[] = [];
const { m } = useSuite({ modules: { queues: () => import('../../lib/platform/queues/queues') }, obliterateQueues: true });
const healthBase = (w: Worker) => w.healthUrl.replace(/\/health$/, '');
const auth = { authorization: basic(USER, PASSWORD) };

/** A non-loopback IPv4 address of this machine, to knock on a port from "outside" loopback. */
const outsideAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

/** Whether anything answers HTTP at that host and port. */
const answers = (host: string, port: string) =>
  fetch(`http://${host}:${port}/admin/queues`, { headers: auth, signal: AbortSignal.timeout(3_000) }).then(
    () => true,
    () => false,
  );

/** A job that stays delayed for the whole test: something the dashboard's actions would touch. */
async function parkedJob(name: string) {
  const queue = await m.queues.getAgendaQueue();
  return queue.add('dashboard.parked', {}, { jobId: `${name}-${Date.now()}`, delay: 3_600_000 });
}

afterAll(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGTERM').catch(() => undefined)));
});

describe('with DASHBOARD_PASSWORD', () => {
  let base: string;
  let worker: Worker;
  beforeAll(async () => {
    worker = await startWorker({ DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD });
    workers.push(worker);
    base = worker.dashboardUrl;
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

  it('is not served on the health port, which keeps its probes', async () => {
    expect((await fetch(`${healthBase(worker)}/admin/queues`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${healthBase(worker)}/admin/queues/api/queues`, { headers: auth })).status).toBe(404);
    expect((await fetch(worker.healthUrl)).status).toBe(200);
    expect((await fetch(worker.liveUrl)).status).toBe(200);
    expect((await fetch(`${base}/health`, { headers: auth })).status).toBe(404); // and no probe on the dashboard's port
  });

  it('listens on loopback only by default', async () => {
    const port = new URL(base).port;
    expect(worker.output()).toMatch(/"worker\.dashboard_mounted".*"host":"127\.0\.0\.1"/s);
    expect(await answers('127.0.0.1', port)).toBe(true);
    if (outsideAddress) expect(await answers(outsideAddress, port)).toBe(false);
  });

  it('is read-only: add, retry, clean, promote and obliterate are refused and change nothing', async () => {
    const job = await parkedJob('read-only');
    const queue = await m.queues.getAgendaQueue();
    // The worker keeps running its schedulers' jobs (`repeat:` ids) meanwhile: list the others,
    // in every state (an injected job would be picked up at once).
    const states = ['delayed', 'waiting', 'active', 'completed', 'failed', 'prioritized'] as const;
    const jobs = async () =>
      (await queue.getJobs([...states])).filter((j) => !j.id?.startsWith('repeat:')).map((j) => `${j.name}:${j.id}`).sort();
    const before = await jobs();
    expect(before).toContain(`${job.name}:${job.id}`);
    const listed = (await (await fetch(`${base}/admin/queues/api/queues`, { headers: auth })).json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(listed.queues.every((q) => q.readOnlyMode)).toBe(true);
    const api = `${base}/admin/queues/api/queues/agenda`;
    const attempts: [string, string, unknown?][] = [
      ['POST', `${api}/add`, { name: 'injected', data: {}, options: {} }],
      ['PUT', `${api}/retry/failed`],
      ['PUT', `${api}/${job.id}/retry`],
      ['PUT', `${api}/clean/delayed`],
      ['PUT', `${api}/${job.id}/clean`],
      ['PUT', `${api}/promote`],
      ['PUT', `${api}/empty`],
      ['PUT', `${api}/obliterate`],
      ['PUT', `${base}/admin/queues/api/queues/pause`],
    ];
    for (const [method, url, body] of attempts) {
      const res = await fetch(url, { method, headers: { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      expect([method, url, res.status]).toEqual([method, url, 405]);
    }
    expect(await jobs()).toEqual(before);
    expect(await (await queue.getJob(job.id!))?.getState()).toBe('delayed');
    expect(await queue.isPaused()).toBe(false);
    // Reading still works.
    expect((await fetch(`${api}/${job.id}`, { headers: auth })).status).toBe(200);
  });
});

describe('with DASHBOARD_READ_WRITE=true and DASHBOARD_HOST=0.0.0.0', () => {
  it('lets an operator change jobs, and answers beyond loopback', async () => {
    const w = await startWorker({ DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_READ_WRITE: 'true', DASHBOARD_HOST: '0.0.0.0' });
    workers.push(w);
    if (outsideAddress) expect(await answers(outsideAddress, new URL(w.dashboardUrl).port)).toBe(true);
    const job = await parkedJob('read-write');
    const res = await fetch(`${w.dashboardUrl}/admin/queues/api/queues/agenda/${job.id}/clean`, { method: 'PUT', headers: auth });
    expect(res.status).toBe(204);
    expect(await (await m.queues.getAgendaQueue()).getJob(job.id!)).toBeUndefined();
  }, 60_000);
});

describe('without DASHBOARD_PASSWORD', () => {
  it('starts no dashboard: nothing listens on its port, the health port has none', async () => {
    const w = await startWorker({ DASHBOARD_PASSWORD: '' });
    workers.push(w);
    expect(await answers('127.0.0.1', new URL(w.dashboardUrl).port)).toBe(false);
    const res = await fetch(`${healthBase(w)}/admin/queues`, { headers: { authorization: basic('admin', 'anything-at-all') } });
    expect(res.status).toBe(404);
  }, 60_000);
});

describe('from the worker bundle the Docker image ships', () => {
  let dir: string;
  let worker: Worker;
  let base: string;
  beforeAll(async () => {
    dir = buildWorkerBundle();
    worker = await startWorker({ DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD }, { bundleDir: dir });
    base = worker.dashboardUrl;
  }, 120_000);
  afterAll(async () => {
    await worker?.stop('SIGTERM').catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("carries Bull Board's page and assets beside main.js", () => {
    expect(readdirSync(dir).sort()).toEqual(['bull-board-ui', 'main.js', 'main.js.map', 'migrate.js', 'migrate.js.map', 'migrations']);
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
