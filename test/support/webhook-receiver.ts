import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A webhook request as the receiver got it. */
export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`: register `${url}/anything`. */
  url: string;
  /** Every request so far, in arrival order (the array grows in place). */
  hooks: ReceivedHook[];
  close(): Promise<void>;
}

/** A real HTTP receiver on a free loopback port that answers every webhook 200 and keeps it. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const hooks: ReceivedHook[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hooks,
    close: async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}
