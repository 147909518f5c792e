import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes';
import { until } from './until';

const run = promisify(execFile);

export interface ScratchCluster {
  /** The client ports of the nodes, all masters (no replicas). */
  ports: number[];
  /** The nodes as REDIS_CLUSTER_NODES lists them. */
  nodesEnv: string;
  /** A command on one node through redis-cli, its reply as text. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** Stops every node and deletes their files. */
  remove(): Promise<void>;
}

/**
 * A throwaway Redis Cluster: `size` redis-servers in cluster mode on free ports (client and cluster
 * bus ports both chosen free, so neither collides with a sibling run), nothing persisted, joined by
 * `redis-cli --cluster create` with no replicas, and returned once every node reports
 * `cluster_state:ok`. Its nodes.conf files live in a temp directory that remove() deletes.
 */
export async function startRedisCluster(size = 3): Promise<ScratchCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agenda-cluster-'));
  const procs: ChildProcess[] = [];
  const cli = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args])).stdout.trim();
  const remove = async () => {
    await Promise.all(
      procs.map((p) =>
        p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((resolve) => p.once('exit', resolve).kill('SIGKILL')),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < size; i++) {
      const [port, bus] = [await freePort(), await freePort()];
      // Loopback only: `redis-cli --cluster create` and the nodes announce 127.0.0.1, which clients then use.
      const args = ['--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no',
        '--cluster-node-timeout', '5000'];
      procs.push(spawn('redis-server', args, { stdio: 'ignore' }));
      ports.push(port);
    }
    const each = (...args: string[]) => Promise.all(ports.map((p) => cli(p, ...args).catch((err: Error) => err.message)));
    await until('every node answers PING', () => each('PING'), (replies) => replies.every((r) => r === 'PONG'), { timeoutMs: 10_000, everyMs: 50 });
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    await until('cluster_state:ok on every node', () => each('CLUSTER', 'INFO'), (infos) => infos.every((i) => /^cluster_state:ok\r?$/m.test(i)), {
      timeoutMs: 20_000,
      everyMs: 100,
    });
    return { ports, nodesEnv: ports.map((p) => `redis://127.0.0.1:${p}`).join(','), cli, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
