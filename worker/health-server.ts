import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Worker } from 'bullmq';
import { hasAdminBearer } from '../lib/http/admin-bearer';
import type { Config } from '../lib/platform/config';
import { checkHealth } from '../lib/platform/health/check';
import { redactLocations, withRedactedErrors } from '../lib/platform/health/redact';
import { logger } from '../lib/platform/observability/logger';
import { startLoopMonitor } from './liveness';

export interface HealthServer {
  server: Server;
  port: number;
  /** Start-up is over (schedulers upserted): readiness may answer 200 from now on. */
  markStarted(): void;
  /** From now on /ready answers 503 so the platform stops routing work here; /live stays 200. */
  markDraining(): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/**
 * The container platform's two probes, and nothing else on this port (the queue dashboard has its
 * own, worker/dashboard.ts). `GET /live` says whether the process should be replaced: 200 while its
 * event loop answers within WORKER_LIVENESS_MAX_LAG_MS, draining included, without a query to
 * PostgreSQL or Redis, so a database blip never restarts the fleet. `GET /ready` (and `/health`,
 * the same answer, for existing probes) says whether it does its work: 503, naming what is down,
 * while a dependency is down, start-up is unfinished (`starting`) or it drains.
 *
 * The port is reached from inside the VPC only, so the report keeps its details (what is down,
 * consumers, queue counts) for whoever debugs there; raw dependency errors, which name hosts and
 * ports, are shown with `Authorization: Bearer <ADMIN_SECRET>` only, and redacted otherwise.
 */
export async function startHealthServer(config: Config, workers: Worker[]): Promise<HealthServer> {
  let started = false;
  let draining = false;
  const loop = startLoopMonitor();
  const ready = (req: IncomingMessage, res: ServerResponse) => {
    const admin = hasAdminBearer({ headers: { authorization: req.headers.authorization } }, config.adminSecret);
    return checkHealth()
      .then((report) => {
        const consumers = workers.map((w) => ({
          queue: w.name,
          running: w.isRunning(),
          mode: config.worker.mode[w.name as keyof Config['worker']['mode']],
          concurrency: w.concurrency,
        }));
        const evictionUnsafe = report.checks.redis?.evictionSafe === false && config.worker.requireNoEviction;
        const ok = started && !draining && report.status !== 'unavailable' && !evictionUnsafe && consumers.every((c) => c.running);
        const status = draining ? 'draining' : started ? report.status : 'starting';
        json(res, ok ? 200 : 503, { ...(admin ? report : withRedactedErrors(report)), status, consumers });
      })
      .catch((err: Error) => json(res, 503, { status: 'unavailable', error: admin ? err.message : redactLocations(err.message) }));
  };

  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    if (req.method === 'GET' && path === '/live') {
      const lagMs = Math.round(loop.lagMs());
      const alive = lagMs <= config.worker.livenessMaxLagMs;
      return json(res, alive ? 200 : 503, { status: alive ? 'alive' : 'stalled', eventLoopLagMs: lagMs });
    }
    if (req.method === 'GET' && (path === '/ready' || path === '/health')) return void ready(req, res);
    json(res, 404, { error: { code: 'not_found' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.worker.healthPort, '0.0.0.0', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.worker.healthPort;
  logger.info('worker.health_listening', { port, probes: { liveness: '/live', readiness: '/ready' } });
  return {
    server,
    port,
    markStarted: () => {
      started = true;
    },
    markDraining: () => {
      draining = true;
    },
    close: () =>
      new Promise((resolve) => {
        loop.stop();
        server.close(() => resolve());
        server.closeAllConnections(); // a probe in flight must not hold the shutdown
      }),
  };
}
