import { safeEqual } from '../lib/http/credentials';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express from 'express';
import type { Config } from '../lib/config';
import { logger } from '../lib/observability/logger';
import { QUEUE_NAMES } from '../lib/queues/names';
import { getQueueByName } from '../lib/queues/queues';
import { BUNDLED_UI_DIR, findBullBoardUi } from './dashboard-assets';

export const DASHBOARD_BASE_PATH = '/admin/queues';

/** A handler the health server hands every request under `prefix` to. */
export interface MountedApp {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void;
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

/**
 * Bull Board for the four queues, served by the worker's health server under /admin/queues behind
 * HTTP basic auth. Returns undefined (nothing mounted: /admin/queues answers 404) without
 * DASHBOARD_PASSWORD: the dashboard can retry, promote and delete jobs, so it is never open.
 * The queues are the worker's own (getQueueByName: one Queue per name on the shared Redis client).
 */
export async function createDashboard(config: Config): Promise<MountedApp | undefined> {
  const { user, password } = config.dashboard;
  if (!password) {
    logger.info('worker.dashboard_disabled', { reason: 'DASHBOARD_PASSWORD unset' });
    return undefined;
  }
  // Bull Board serves its page and assets from @bull-board/ui's files on disk: beside the bundle
  // (scripts/build-worker.ts puts them there) or installed. Without them the dashboard stays off
  // and the worker runs on (it is an operator's convenience, not the worker's job).
  const uiBasePath = findBullBoardUi();
  if (!uiBasePath) {
    logger.error('worker.dashboard_unavailable', { reason: `@bull-board/ui not found: neither ${BUNDLED_UI_DIR}/ beside the worker nor installed` });
    return undefined;
  }
  const queues = await Promise.all(QUEUE_NAMES.map((q) => getQueueByName(q)));
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_BASE_PATH);
  // @bull-board/express 9.10.1 carries its own @bull-board/api 9.10.1 beside our 9.10.2: same
  // interface at run time, but TypeScript sees two declarations of the adapter's private fields.
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    options: { uiBasePath },
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(DASHBOARD_BASE_PATH, (req, res, next) => {
    if (basicAuthOk(req.headers.authorization, user, password)) return next();
    res.set('WWW-Authenticate', 'Basic realm="Agenda queues", charset="UTF-8"').status(401).type('text/plain').send('Unauthorized');
  });
  app.use(DASHBOARD_BASE_PATH, serverAdapter.getRouter() as express.Router);
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found' } });
  });
  logger.info('worker.dashboard_mounted', { path: DASHBOARD_BASE_PATH, user });
  return { prefix: DASHBOARD_BASE_PATH, handle: (req, res) => app(req, res) };
}
