import { createServer, type Server } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express from 'express';
import { safeEqual } from '../lib/http/credentials';
import type { Config } from '../lib/platform/config';
import { logger } from '../lib/platform/observability/logger';
import { QUEUE_NAMES } from '../lib/platform/config/queue-names';
import { getQueueByName } from '../lib/platform/queues/queues';
import { BUNDLED_UI_DIR, findBullBoardUi } from './dashboard-assets';

export const DASHBOARD_BASE_PATH = '/admin/queues';

/** The dashboard's own server, to close on shutdown. */
export interface Dashboard {
  server: Server;
  host: string;
  port: number;
  readOnly: boolean;
  close(): Promise<void>;
}

/** Checks an `Authorization: Basic …` header against the configured user and password. */
export function basicAuthOk(header: string | undefined, user: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both compared, always (no short-circuit), so timing does not tell which one was wrong.
  const userOk = safeEqual(decoded.slice(0, colon), user);
  const passOk = safeEqual(decoded.slice(colon + 1), password);
  return userOk && passOk;
}

/** The express app: basic auth, then (read-only) nothing but reads, then Bull Board. */
async function dashboardApp(config: Config, uiBasePath: string): Promise<express.Express> {
  const { user, password, readWrite } = config.dashboard;
  const queues = await Promise.all(QUEUE_NAMES.map((q) => getQueueByName(q)));
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_BASE_PATH);
  // @bull-board/express 9.10.1 carries its own @bull-board/api 9.10.1 beside our 9.10.2: same
  // interface at run time, but TypeScript sees two declarations of the adapter's private fields.
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: !readWrite })),
    options: { uiBasePath },
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(DASHBOARD_BASE_PATH, (req, res, next) => {
    if (basicAuthOk(req.headers.authorization, user, password!)) return next();
    res.set('WWW-Authenticate', 'Basic realm="Agenda queues", charset="UTF-8"').status(401).type('text/plain').send('Unauthorized');
  });
  // Bull Board refuses its queue actions in read-only mode (405); this refuses every other change
  // too (pause all, resume all, whatever a later version adds) before it reaches Bull Board.
  if (!readWrite) {
    app.use(DASHBOARD_BASE_PATH, (req, res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') return next();
      res.status(405).json({ error: { code: 'read_only', message: 'The dashboard is read-only (DASHBOARD_READ_WRITE=true allows changes)' } });
    });
  }
  app.use(DASHBOARD_BASE_PATH, serverAdapter.getRouter() as express.Router);
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found' } });
  });
  return app;
}

/**
 * Bull Board for the four queues under /admin/queues, behind HTTP basic auth, on a server of its own
 * (DASHBOARD_PORT on DASHBOARD_HOST, loopback unless configured): never on the probe port, which the
 * platform reaches from outside the container. Read-only unless DASHBOARD_READ_WRITE=true, since
 * job data and the power to delete jobs are not for whoever merely looks. Returns undefined
 * (nothing listens) without DASHBOARD_PASSWORD, without Bull Board's UI files, or when its port is
 * taken: the dashboard is an operator's convenience, and the worker runs on without it.
 */
export async function startDashboard(config: Config): Promise<Dashboard | undefined> {
  const { password, port, host, readWrite } = config.dashboard;
  if (!password) {
    logger.info('worker.dashboard_disabled', { reason: 'DASHBOARD_PASSWORD unset' });
    return undefined;
  }
  // Served from @bull-board/ui's files on disk: beside the bundle (scripts/build-worker.ts) or installed.
  const uiBasePath = findBullBoardUi();
  if (!uiBasePath) {
    logger.error('worker.dashboard_unavailable', { reason: `@bull-board/ui not found: neither ${BUNDLED_UI_DIR}/ beside the worker nor installed` });
    return undefined;
  }
  const server = createServer(await dashboardApp(config, uiBasePath));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    logger.error('worker.dashboard_unavailable', { reason: (err as Error).message, host, port });
    return undefined;
  }
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  logger.info('worker.dashboard_mounted', { path: DASHBOARD_BASE_PATH, host, port: bound, readOnly: !readWrite, user: config.dashboard.user });
  return {
    server,
    host,
    port: bound,
    readOnly: !readWrite,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
