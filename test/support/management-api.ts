import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the stand-in received. */
export interface ManagementApiCall {
  method: string;
  connectionId: string;
  body: any;
  /** When it arrived (`performance.now()`), before its answer was scheduled. */
  at: number;
}

/**
 * A stand-in for API Gateway's WebSocket Management API (AWS itself is the one thing tests may
 * fake): `POST /@connections/{id}` (PostToConnection) and `DELETE /@connections/{id}`
 * (DeleteConnection), answering as AWS does: 200 / 204, 410 for a connection it does not know.
 * Every call is recorded with its arrival time; a connection can be made gone or failing (500), and
 * answers delayed.
 */
export interface FakeManagementApi {
  endpoint: string;
  calls: ManagementApiCall[];
  /** Connections that answer 410. */
  gone: Set<string>;
  /** Connections that answer 500. */
  failing: Set<string>;
  /** Delay before every answer, to hold deliveries in flight. */
  delayMs: number;
  /** Called with each call as it arrives, once recorded and before its answer is scheduled (so it may change `delayMs` for it). */
  onCall: ((call: ManagementApiCall) => void) | undefined;
  posted(connectionId: string): any[];
  /**
   * Runs `fn` and gives its result with the arrival times of the calls made meanwhile, in arrival
   * order; `onArrival` is told each one's rank (from 1) as it arrives. The stand-in answers each
   * `delayMs` after its arrival: calls made one after another arrive a full delay (or deadline)
   * apart, calls made in parallel all within one.
   */
  arrivalsDuring<T>(fn: () => Promise<T>, onArrival?: (rank: number) => void): Promise<{ result: T; arrivals: number[] }>;
  /** Back to a fresh stand-in (same endpoint): no calls, none gone or failing, no delay, no hook. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeManagementApi(): Promise<FakeManagementApi> {
  const api = {
    calls: [] as ManagementApiCall[],
    gone: new Set<string>(),
    failing: new Set<string>(),
    delayMs: 0,
    onCall: undefined as FakeManagementApi['onCall'],
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/@connections\/([^/?]+)/.exec(req.url ?? '');
      const connectionId = match ? decodeURIComponent(match[1]!) : '';
      const text = Buffer.concat(chunks).toString('utf8');
      const call = { method: req.method ?? '', connectionId, body: text ? JSON.parse(text) : undefined, at: performance.now() };
      api.calls.push(call);
      api.onCall?.(call);
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
    async arrivalsDuring<T>(fn: () => Promise<T>, onArrival?: (rank: number) => void) {
      const from = api.calls.length;
      const previous = api.onCall;
      if (onArrival) api.onCall = () => onArrival(api.calls.length - from);
      try {
        const result = await fn();
        return { result, arrivals: api.calls.slice(from).map((c) => c.at) };
      } finally {
        api.onCall = previous;
      }
    },
    reset: () => {
      api.calls.length = 0;
      api.gone.clear();
      api.failing.clear();
      api.delayMs = 0;
      api.onCall = undefined;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
