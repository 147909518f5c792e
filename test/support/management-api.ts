import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for API Gateway's WebSocket Management API (AWS itself is the one thing tests may
 * fake): `POST /@connections/{id}` (PostToConnection) and `DELETE /@connections/{id}`
 * (DeleteConnection), answering as AWS does: 200 / 204, 410 for a connection it does not know.
 * Every call is recorded; a connection can be made gone or failing (500), and answers delayed.
 */
export interface FakeManagementApi {
  endpoint: string;
  calls: { method: string; connectionId: string; body: any }[];
  /** Connections that answer 410. */
  gone: Set<string>;
  /** Connections that answer 500. */
  failing: Set<string>;
  /** Delay before every answer, to hold deliveries in flight. */
  delayMs: number;
  posted(connectionId: string): any[];
  close(): Promise<void>;
}

export async function startFakeManagementApi(): Promise<FakeManagementApi> {
  const api = {
    calls: [] as FakeManagementApi['calls'],
    gone: new Set<string>(),
    failing: new Set<string>(),
    delayMs: 0,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/@connections\/([^/?]+)/.exec(req.url ?? '');
      const connectionId = match ? decodeURIComponent(match[1]!) : '';
      const text = Buffer.concat(chunks).toString('utf8');
      api.calls.push({ method: req.method ?? '', connectionId, body: text ? JSON.parse(text) : undefined });
      setTimeout(() => {
        if (!match) res.writeHead(404).end();
        else if (api.gone.has(connectionId)) res.writeHead(410, { 'content-type': 'application/json' }).end('{"message":"Gone"}');
        else if (api.failing.has(connectionId)) res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal"}');
        else res.writeHead(req.method === 'DELETE' ? 204 : 200).end();
      }, api.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, {
    endpoint: `http://127.0.0.1:${port}`,
    posted: (connectionId: string) => api.calls.filter((c) => c.method === 'POST' && c.connectionId === connectionId).map((c) => c.body),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
