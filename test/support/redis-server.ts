import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './processes';

export interface ScratchRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: an outage, not a shutdown). */
  stop(): Promise<void>;
  /** Starts it again on the same port (and, when persistent, with the same data). */
  start(): Promise<void>;
  /** Stops it for good and deletes its data. */
  remove(): Promise<void>;
}

export interface ScratchRedisOptions {
  /**
   * Keep the data across stop() and start() (append-only file, fsync on every write), as a real
   * Redis holding BullMQ's queues does: without it a restart loses every job and job scheduler.
   */
  persistent?: boolean;
}

/**
 * A throwaway redis-server on a free port, for settings the shared server must keep (such as an
 * eviction policy BullMQ forbids) and for outages: stop() and start() again on the same port.
 * Nothing is persisted unless asked.
 */
export async function startScratchRedis(args: string[] = [], opts: ScratchRedisOptions = {}): Promise<ScratchRedis> {
  const port = await freePort();
  const dir = opts.persistent ? await mkdtemp(path.join(tmpdir(), 'agenda-redis-')) : undefined;
  const storage = dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] : ['--appendonly', 'no'];
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;

  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) return;
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...storage, ...args], { stdio: 'ignore' });
    const { default: Redis } = await import('ioredis');
    for (let i = 0; i < 50; i++) {
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      const ok = await probe.connect().then(() => probe.ping(), () => undefined);
      probe.disconnect();
      if (ok === 'PONG') return;
      await sleep(100);
    }
    throw new Error(`redis-server on port ${port} did not answer`);
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGKILL');
    await new Promise((resolve) => p.once('exit', resolve));
  };

  await start();
  return {
    url,
    port,
    stop,
    start,
    remove: async () => {
      await stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
