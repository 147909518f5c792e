import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './processes';

/**
 * A real PgBouncer in transaction mode with stock settings (no `ignore_startup_parameters`), on a
 * free loopback port, in front of one PostgreSQL (the shared 127.0.0.1:5432 unless told otherwise).
 * Every database name is forwarded as is (`* =`), trust authentication, user `postgres`.
 */
export interface PgBouncer {
  readonly port: number;
  /** `target` (a postgres URL) with host and port replaced by PgBouncer's; database and user kept. */
  urlFor(target: string): string;
  /** What PgBouncer logged so far (one line per event: logins, server connections, errors). */
  output(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Server connections per database and user (`default_pool_size`). */
  poolSize?: number;
  maxClientConn?: number;
  target?: { host: string; port: number };
}

const BIN = process.env.PGBOUNCER_BIN ?? (existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : 'pgbouncer');
const MAX_OUTPUT = 256 * 1024;

export async function startPgBouncer(opts: PgBouncerOptions = {}): Promise<PgBouncer> {
  const { poolSize = 5, maxClientConn = 300, target = { host: '127.0.0.1', port: 5432 } } = opts;
  const port = await freePort();
  // PgBouncer refuses to run as root and reads its files after switching to postgres: make them readable.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agenda-pgbouncer-'));
  await chmod(dir, 0o755);
  const ini = path.join(dir, 'pgbouncer.ini');
  const userlist = path.join(dir, 'userlist.txt');
  await writeFile(userlist, '"postgres" ""\n', { mode: 0o644 });
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=${target.host} port=${target.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${userlist}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      `max_client_conn = ${maxClientConn}`,
      'admin_users = postgres',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asPostgres = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
  const proc = spawn(BIN, [...asPostgres, ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-MAX_OUTPUT);
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM'); // immediate shutdown: clients and server connections are closed
      const hard = setTimeout(() => proc.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(hard);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 5_000;
  while (!(await accepts(port))) {
    if (spawnError || proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`PgBouncer (${BIN}) did not start: ${spawnError?.message ?? output.slice(-2000)}`);
    }
    await sleep(20);
  }
  return {
    port,
    urlFor: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    output: () => output,
    stop,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
