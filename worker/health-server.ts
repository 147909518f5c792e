import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Worker } from 'bullmq';
import type { Config } from '../lib/config';
import { checkHealth } from '../lib/health/check';
import { logger } from '../lib/observability/logger';

export interface HealthServer {
  server: Server;
  port: number;
  /** From now on /health answers 503 so the platform stops routing work here. */
  markDraining(): void;
  close(): Promise<void>;
}

/**
 * The container platform's probe: GET /health answers 200 while the workers run and their
 * dependencies are up, 503 (naming what is down, or `draining`) otherwise.
 */
export async function startHealthServer(
  config: Config,
  workers: Worker[],
  /** Another app served on this port for one path prefix (the queue dashboard, worker/dashboard.ts). */
  mounted?: { prefix: string; handle(req: IncomingMessage, res: ServerResponse): void },
): Promise<HealthServer> {
  let draining = false;
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    if (mounted && (path === mounted.prefix || path.startsWith(`${mounted.prefix}/`))) {
      mounted.handle(req, res);
      return;
    }
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found"}}');
      return;
    }
    checkHealth()
      .then((report) => {
        const consumers = workers.map((w) => ({
          queue: w.name,
          running: w.isRunning(),
          mode: config.worker.mode[w.name as keyof Config['worker']['mode']],
          concurrency: w.concurrency,
        }));
        const evictionUnsafe = report.checks.redis?.evictionSafe === false && config.worker.requireNoEviction;
        const ok = !draining && report.status !== 'unavailable' && !evictionUnsafe && consumers.every((c) => c.running);
        const body = { ...report, status: draining ? 'draining' : report.status, consumers };
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      })
      .catch((err: Error) => {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable', error: err.message }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.worker.healthPort, '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.worker.healthPort;
  logger.info('worker.health_listening', { port });
  return {
    server,
    port,
    markDraining: () => {
      draining = true;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a probe in flight must not hold the shutdown
      }),
  };
}
