import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Arrival {
  /** performance.now() when the request body had fully arrived, before verifying or answering. */
  at: number;
  body: string;
  headers: Record<string, string>;
  /** Whether the Standard Webhooks signature verified with the endpoint's secret. */
  verified: boolean;
}

/**
 * A local webhook receiver: answers 200 to every POST, records when each arrived, keyed by the
 * payload's `data.id` (the appointment id of an appointment event), and checks its signature.
 */
export class WebhookReceiver {
  private readonly arrivals = new Map<string, Arrival>();
  private readonly waiters = new Map<string, (a: Arrival) => void>();
  /** The endpoint's secret, set once the endpoint exists; arrivals before that count as unverified. */
  secret: string | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        receiver!.record(at, Buffer.concat(chunks).toString('utf8'), req.headers);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/agenda`);
    return receiver;
  }

  private record(at: number, body: string, raw: http.IncomingHttpHeaders): void {
    const headers = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
    let verified = false;
    try {
      if (this.secret) {
        new Webhook(this.secret).verify(body, headers);
        verified = true;
      }
    } catch {
      // a bad signature: reported through `verified`
    }
    let key: string | undefined;
    try {
      key = (JSON.parse(body) as { data?: { id?: string } }).data?.id;
    } catch {
      // not JSON: cannot be matched to a booking
    }
    if (!key) return;
    const arrival = { at, body, headers, verified };
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.waiters.delete(key);
      waiter(arrival);
    } else this.arrivals.set(key, arrival);
  }

  /** The arrival of the webhook about `id`, whether it came already or comes within `timeoutMs`. */
  arrival(id: string, timeoutMs: number): Promise<Arrival> {
    const early = this.arrivals.get(id);
    if (early) {
      this.arrivals.delete(id);
      return Promise.resolve(early);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`no webhook for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
