import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from './processes';
import { until } from './until';

/**
 * A PostgreSQL server of its own, on a free loopback port, that checks passwords
 * (scram-sha-256), unlike the shared one (trust): for what only a real password check shows. Its
 * superuser is `postgres` with `password`. Started from the binaries of the installed PostgreSQL
 * (PG_BIN, else the newest /usr/lib/postgresql/<version>/bin); as root, it runs as `postgres`.
 */
export interface ScratchPostgres {
  /** postgresql://postgres:<password>@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly password: string;
  stop(): Promise<void>;
}

function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(`${d}/initdb`));
  if (!dir) throw new Error('PostgreSQL server binaries not found (set PG_BIN)');
  return dir;
}

export async function startScratchPostgres(password = 'scratch-secret-pw'): Promise<ScratchPostgres> {
  const bin = binDir();
  const root = process.getuid?.() === 0;
  const asPostgres = (cmd: string, args: string[]) => (root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'agenda-scratch-pg-'));
  const pwfile = path.join(dir, 'pw');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    await chown(dir, uid, gid);
    await chown(pwfile, uid, gid);
  }
  await chmod(dir, 0o700);
  const data = path.join(dir, 'data');
  execFileSync(...asPostgres(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-N']), { stdio: 'pipe' });
  const port = await freePort();
  const [cmd, args] = asPostgres(`${bin}/postgres`, ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      // Through pg_ctl, as the server's own user: a signal to runuser may not reach the server.
      try {
        execFileSync(...asPostgres(`${bin}/pg_ctl`, ['stop', '-D', data, '-m', 'fast', '-w']), { stdio: 'pipe' });
      } catch {
        proc.kill('SIGKILL');
      }
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const accepts = async () => {
    const c = new Client({ connectionString: url });
    return c.connect().then(() => c.end().then(() => true), () => false);
  };
  try {
    await until('scratch PostgreSQL accepting connections', accepts, (ok) => ok || proc.exitCode !== null, { timeoutMs: 15_000, everyMs: 100, context: () => output });
    if (proc.exitCode !== null) throw new Error(`scratch PostgreSQL exited: ${output}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, password, stop };
}
