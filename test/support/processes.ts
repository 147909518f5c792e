import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = path.join(__dirname, '..', '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Started {
  proc: ChildProcess;
  output: () => string;
  /** Sends a signal to the whole process group and waits for the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

function launch(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = root): Started {
  const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      try {
        process.kill(-proc.pid!, signal);
      } catch {
        return proc.exitCode;
      }
      const code = await Promise.race([exited, sleep(timeoutMs, 'timeout' as const, { ref: false })]);
      if (code === 'timeout') {
        process.kill(-proc.pid!, 'SIGKILL');
        throw new Error(`process did not exit within ${timeoutMs} ms after ${signal}\n${out.slice(-2000)}`);
      }
      return code;
    },
  };
}

async function waitHttp(url: string, timeoutMs: number, started: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.proc.exitCode !== null) throw new Error(`process exited early:\n${started.output().slice(-3000)}`);
    const ok = await fetch(url).then((r) => r.status === 200, () => false);
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms:\n${started.output().slice(-3000)}`);
}

/** The env a child needs to share this test file's database, Redis and queue prefix. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? 'INFO',
    ...extra,
  };
}

export interface Worker extends Started {
  healthUrl: string;
  /** The liveness probe (worker/health-server.ts); `healthUrl` is readiness. */
  liveUrl: string;
  /** The queue dashboard's own server (worker/dashboard.ts), on a free port of its own, when mounted. */
  dashboardUrl: string;
}

/** Where the worker runs from: its source, as `npm run worker` does, or a directory holding the bundle. */
export type WorkerFrom = 'source' | { bundleDir: string };

/**
 * Starts the worker container's entry point and waits for its health endpoint: from source as
 * `npm run worker` does, or as the Dockerfile's image runs it: `node --enable-source-maps main.js`
 * in the directory that holds the bundle (`npm run build:worker` writes dist/worker/), with
 * NODE_ENV=production. Give it a directory outside the repo, so that nothing the bundle forgot can
 * be found in the repo's node_modules.
 */
export async function startWorker(
  extra: NodeJS.ProcessEnv = {},
  from: WorkerFrom = 'source',
  /** `live`: return once the process is alive, ready or not (a worker started with its database down). */
  waitFor: 'ready' | 'live' = 'ready',
): Promise<Worker> {
  const [port, dashboardPort] = [await freePort(), await freePort()];
  const env = childEnv({ AGENDA_PROFILE: 'worker', WORKER_HEALTH_PORT: String(port), DASHBOARD_PORT: String(dashboardPort), ...extra });
  const started =
    from === 'source'
      ? // One process, as in the container: tsx's CLI would sit in front and relay signals itself.
        launch(process.execPath, ['--import', 'tsx', 'worker/main.ts'], env)
      : launch(process.execPath, ['--enable-source-maps', 'main.js'], { ...env, NODE_ENV: 'production', NODE_PATH: '' }, from.bundleDir);
  const healthUrl = `http://127.0.0.1:${port}/health`;
  const liveUrl = `http://127.0.0.1:${port}/live`;
  await waitHttp(waitFor === 'live' ? liveUrl : healthUrl, 30_000, started);
  return { ...started, healthUrl, liveUrl, dashboardUrl: `http://127.0.0.1:${env.DASHBOARD_PORT}` };
}

export interface Offline extends Started {
  httpUrl: string;
  lambdaUrl: string;
  websocketUrl: string;
}

/**
 * Starts `serverless offline` on free ports and waits until its HTTP API answers /health. Each run
 * builds the functions into a folder of its own (AGENDA_LAMBDA_DIR, scripts/build-lambda.ts), so
 * runs started side by side, or a file saved meanwhile, never hand a handler a half-written bundle.
 */
export async function startOffline(extra: NodeJS.ProcessEnv = {}): Promise<Offline> {
  const [http, ws, lambda] = [await freePort(), await freePort(), await freePort()];
  const buildDir = path.join('.offline-builds', randomUUID());
  const started = launch(
    bin('serverless'),
    ['offline', 'start'],
    childEnv({
      HTTP_PORT: String(http),
      WEBSOCKET_PORT: String(ws),
      LAMBDA_PORT: String(lambda),
      WEBSOCKET_ENDPOINT: `http://localhost:${ws}`,
      AGENDA_LAMBDA_DIR: buildDir,
      ...extra,
    }),
  );
  const removeBuild = () =>
    Promise.all([buildDir, `${buildDir}-maps`].map((dir) => rm(path.join(root, dir), { recursive: true, force: true })));
  const offline = {
    ...started,
    async stop(signal?: NodeJS.Signals, timeoutMs?: number) {
      try {
        return await started.stop(signal, timeoutMs);
      } finally {
        await removeBuild();
      }
    },
  };
  const httpUrl = `http://localhost:${http}`;
  try {
    await waitHttp(`${httpUrl}/health`, 120_000, started);
  } catch (err) {
    await offline.stop('SIGKILL', 5_000).catch(() => undefined);
    throw err;
  }
  return { ...offline, httpUrl, lambdaUrl: `http://localhost:${lambda}`, websocketUrl: `ws://localhost:${ws}` };
}
