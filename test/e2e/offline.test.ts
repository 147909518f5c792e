import WebSocket from 'ws';
import { waitProcessed } from '../support/canary';
import { startOffline, startWorker, type Offline, type Worker } from '../support/processes';

const ADMIN_SECRET = 'offline-test-admin-secret';
const auth = { authorization: `Bearer ${ADMIN_SECRET}`, 'content-type': 'application/json' };
let offline: Offline;
let worker: Worker | undefined;

beforeAll(async () => {
  offline = await startOffline({ ADMIN_SECRET });
}, 150_000);

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await offline?.stop('SIGINT');
});

async function getJson(path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(`${offline.httpUrl}${path}`, init);
  return { status: res.status, body: await res.json() };
}

describe('through serverless-offline', () => {
  it('serves /health from one warm container: {status} to anyone, the report with the admin secret', async () => {
    const anyone = await getJson('/health');
    expect(anyone).toEqual({ status: 200, body: { status: 'ok' } });
    const first = await getJson('/health', { headers: auth });
    const second = await getJson('/health', { headers: auth });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.container.containerId).toBe(first.body.container.containerId);
    expect(second.body.invocation.coldStart).toBe(false);
    expect(second.body.invocation.invocation).toBe(first.body.invocation.invocation + 1);
    expect(second.body.checks.database.pool).toMatchObject({ max: 1, min: 0 }); // the health function's budget (serverless.yml)
    expect(second.body.checks.database.pool.total).toBeLessThanOrEqual(1);
  });

  it('answers a bad request with 400 and a body naming the field', async () => {
    const res = await getJson('/admin/canaries', { method: 'POST', headers: auth, body: '{"queue":"nope"}' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'queue' }] });
  });

  it('runs a queue job inside the job Lambda when the worker dispatches to Lambda', async () => {
    worker = await startWorker({ WORKER_MODE_AGENDA: 'lambda', LAMBDA_ENDPOINT: offline.lambdaUrl });
    const res = await getJson('/admin/canaries', { method: 'POST', headers: auth, body: '{"queue":"agenda"}' });
    expect(res.status).toBe(202);
    const [row] = await waitProcessed([res.body.id], 60_000);
    expect(row).toMatchObject({ status: 'processed', mode: 'lambda', attempts: 1 });

    // The same canary seen through the API.
    const seen = await getJson(`/admin/canaries/${res.body.id}`, { headers: auth });
    expect(seen.body).toMatchObject({ id: res.body.id, status: 'processed', mode: 'lambda' });
    // Processed by the job Lambda's container, not by the worker process itself.
    const workerHealth = (await fetch(worker.healthUrl).then((r) => r.json())) as { container: { containerId: string } };
    expect(row!.processed_by).toMatch(/^[0-9a-f]{8}$/);
    expect(row!.processed_by).not.toBe(workerHealth.container.containerId);
  });

  it('answers WebSocket pings from a socket-profile container with a lazy pool of one', async () => {
    // $connect authenticates a single-use ticket (a browser cannot set headers on a WebSocket).
    const clinic = await getJson('/admin/clinics', { method: 'POST', headers: auth, body: '{"name":"Socket clinic"}' });
    expect(clinic.status).toBe(201);
    const ticket = await getJson('/v1/realtime/tickets', { method: 'POST', headers: { authorization: `Bearer ${clinic.body.apiKey.key}` } });
    expect(ticket.status).toBe(201);
    const socket = new WebSocket(`${offline.websocketUrl}?ticket=${encodeURIComponent(ticket.body.ticket)}`);
    const messages: any[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const next = async (payload: string) => {
      const before = messages.length;
      socket.send(payload);
      const deadline = Date.now() + 20_000;
      while (messages.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return messages[before];
    };
    try {
      const first = await next('{"action":"ping"}');
      expect(first).toMatchObject({ type: 'pong', profile: 'socket', database: { status: 'up', pool: { max: 1, min: 0 } } });
      // The reply is pushed before the handler returns, so a ping sent at once may find that
      // container still busy and get a new one, as on Lambda. Pings spaced out reach a warm one.
      const seen = new Set<string>([first.containerId]);
      let warm: any;
      for (let i = 0; i < 10 && !warm; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const pong = await next('{"action":"ping"}');
        if (!pong.coldStart && seen.has(pong.containerId)) warm = pong;
        seen.add(pong.containerId);
      }
      expect(warm).toMatchObject({ type: 'pong', profile: 'socket', coldStart: false });
      expect(warm.invocation).toBeGreaterThan(1);
      expect(warm.database.pool.total).toBe(1); // the lazy pool opened its one connection and kept it
      const bad = await next('{"action":"dance"}');
      expect(bad).toMatchObject({ type: 'error', code: 'validation_failed', details: [{ field: 'action' }] });
      expect(await next('not json')).toMatchObject({ type: 'error', code: 'validation_failed' });
    } finally {
      socket.close();
    }
  });
});
