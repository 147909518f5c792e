import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './processes';

export interface ScratchRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway redis-server on a free port, for settings the shared server must keep (such as an
 * eviction policy BullMQ forbids). Nothing is persisted.
 */
export async function startScratchRedis(args: string[] = []): Promise<ScratchRedis> {
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const { default: Redis } = await import('ioredis');
  for (let i = 0; i < 50; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const ok = await probe.connect().then(() => probe.ping(), () => undefined);
    probe.disconnect();
    if (ok === 'PONG') break;
    await sleep(100);
  }
  return {
    url,
    stop: async () => {
      proc.kill('SIGKILL');
      await new Promise((resolve) => (proc.exitCode !== null ? resolve(undefined) : proc.once('exit', resolve)));
    },
  };
}
