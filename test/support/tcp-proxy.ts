import net from 'node:net';

/**
 * A real TCP proxy on an ephemeral 127.0.0.1 port in front of one host:port (PostgreSQL, Redis).
 * Tests point the product at it and then break the network without touching the shared servers:
 *
 * - `down()`: the dependency is unreachable. The port stops listening (new connections are
 *   refused) and every open connection is destroyed (clients see a reset/close).
 * - `up()`: the dependency is back on the same port; new connections flow normally.
 * - `blackhole()`: the network died silently (e.g. a NAT entry dropped while a Lambda container was
 *   frozen). Open sockets stay open, no FIN or RST, but every byte in either direction is dropped;
 *   connections accepted while blackholed are dropped the same way. `up()` heals new connections
 *   only: sockets blackholed before stay dead forever, like the real thing.
 * - `close()`: stop for good.
 */
export interface TcpProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Rewrites a URL's host and port to point at the proxy (`redis://...`, `postgresql://...`). */
  urlFor(target: string): string;
  down(): Promise<void>;
  up(): Promise<void>;
  blackhole(): void;
  close(): Promise<void>;
  /** Connections currently open through the proxy (blackholed ones included). */
  openConnections(): number;
  /** Connections accepted since start. */
  acceptedConnections(): number;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  blackholed: boolean;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  let blackholing = false;
  let listening = false;
  let closed = false;

  const server = net.createServer({ pauseOnConnect: false }, (client) => {
    accepted += 1;
    const upstream = net.connect({ host: target.host, port: target.port });
    const pair: Pair = { client, upstream, blackholed: blackholing };
    pairs.add(pair);
    const destroyBoth = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // A blackholed pair never forwards a byte nor a close: the peer must find out by itself.
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (!pair.blackholed && !to.destroyed) to.write(chunk);
      });
      from.on('end', () => {
        if (!pair.blackholed) to.end();
      });
      from.on('close', () => {
        if (!pair.blackholed) destroyBoth();
        // Blackholed: the other side is not told; forget the pair once both sides are gone.
        else if (client.destroyed && upstream.destroyed) pairs.delete(pair);
      });
      from.on('error', () => undefined); // resets are expected here; never crash the test process
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  server.on('error', () => undefined);

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });

  await listen(0);
  const port = (server.address() as net.AddressInfo).port;

  const destroyAll = () => {
    for (const p of pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    pairs.clear();
  };

  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      destroyAll(); // close() only calls back once every connection is gone
    });

  return {
    host: '127.0.0.1',
    port,
    urlFor(targetUrl: string) {
      const u = new URL(targetUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async down() {
      blackholing = false;
      await stopListening();
      destroyAll();
    },
    async up() {
      if (closed) throw new Error('proxy closed');
      blackholing = false;
      if (!listening) await listen(port);
    },
    blackhole() {
      blackholing = true;
      for (const p of pairs) p.blackholed = true;
    },
    async close() {
      closed = true;
      await stopListening();
      destroyAll();
    },
    openConnections: () => pairs.size,
    acceptedConnections: () => accepted,
  };
}
