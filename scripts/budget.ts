import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { load } from 'js-yaml';
import { Client } from 'pg';
import { PROFILE_DEFAULTS, type Profile } from '../lib/platform/config/profiles';

/**
 * `npm run budget`: the PostgreSQL connection budget of a deployment, from serverless.yml. Every
 * function can hold at most its reserved concurrency x DB_POOL_MAX connections, every worker its
 * pool max; their sum must stay below max_connections (with room for migrations and people), or a
 * pooler (RDS Proxy, PgBouncer) must stand in between, and then the server sees only its pool.
 */

interface FunctionDef {
  reservedConcurrency?: number;
  environment?: Record<string, string>;
}

export interface BudgetLine {
  name: string;
  profile: Profile;
  reservedConcurrency: number | undefined;
  poolMax: number;
  poolMin: number;
  /** At most this many connections: reserved concurrency x pool max (unbounded without a reservation). */
  atMost: number;
  /** Held while idle: every warm container keeps pool min open. */
  idleAtMost: number;
}

export async function functionBudget(root = path.resolve(__dirname, '..')): Promise<BudgetLine[]> {
  const yml = load(await readFile(path.join(root, 'serverless.yml'), 'utf8')) as {
    provider: { environment: Record<string, string> };
    functions: Record<string, FunctionDef>;
  };
  return Object.entries(yml.functions).map(([name, fn]) => {
    const env = { ...yml.provider.environment, ...fn.environment };
    const profile = (env.AGENDA_PROFILE ?? 'api') as Profile;
    const setting = (key: string) => Number(env[key] ?? PROFILE_DEFAULTS[profile][key]);
    const poolMax = setting('DB_POOL_MAX');
    const poolMin = setting('DB_POOL_MIN');
    const rc = fn.reservedConcurrency;
    return { name, profile, reservedConcurrency: rc, poolMax, poolMin, atMost: (rc ?? Infinity) * poolMax, idleAtMost: (rc ?? Infinity) * poolMin };
  });
}

async function maxConnections(url: string | undefined): Promise<number | undefined> {
  if (!url) return undefined;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000, application_name: 'agenda-budget' });
  try {
    await client.connect();
    const { rows } = await client.query<{ max_connections: string }>('SHOW max_connections');
    return Number(rows[0]?.max_connections);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: process.env.WORKER_REPLICAS ?? '2' },
      'worker-pool-max': { type: 'string', default: process.env.WORKER_DB_POOL_MAX ?? PROFILE_DEFAULTS.worker.DB_POOL_MAX },
      'max-connections': { type: 'string' },
      'pooler-pool-size': { type: 'string' },
      reserve: { type: 'string', default: '10' },
    },
  });
  const lines = await functionBudget();
  const workers = Number(values.workers);
  const workerPoolMax = Number(values['worker-pool-max']);
  const url = process.env.DIRECT_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agenda';
  const max = values['max-connections'] ? Number(values['max-connections']) : await maxConnections(url);
  const reserve = Number(values.reserve);

  const rows = lines.map((l) => [
    l.name,
    l.profile,
    String(l.reservedConcurrency ?? 'none'),
    `${l.poolMin}/${l.poolMax}`,
    Number.isFinite(l.atMost) ? String(l.atMost) : 'unbounded',
    Number.isFinite(l.idleAtMost) ? String(l.idleAtMost) : 'unbounded',
  ]);
  const functionsTotal = lines.reduce((sum, l) => sum + l.atMost, 0);
  const idleTotal = lines.reduce((sum, l) => sum + l.idleAtMost, 0);
  const workerTotal = workers * workerPoolMax;
  rows.push([`worker x ${workers}`, 'worker', '-', `1/${workerPoolMax}`, String(workerTotal), String(workers)]);
  const widths = [16, 8, 12, 9, 11, 10];
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' ');
  console.log(line(['function', 'profile', 'reserved', 'pool', 'at most', 'idle']));
  for (const r of rows) console.log(line(r));
  const total = functionsTotal + workerTotal;
  console.log(`\nWithout a pooler: at most ${total} server connections (${functionsTotal} functions + ${workerTotal} workers); ${idleTotal + workers} held by idle warm containers.`);
  if (max !== undefined) {
    const room = max - reserve;
    console.log(`max_connections ${max}, ${reserve} kept for migrations and people: ${total <= room ? 'fits' : `does NOT fit (over by ${total - room})`}.`);
  } else {
    console.log('max_connections unknown (no database reachable; pass --max-connections).');
  }
  const poolSize = values['pooler-pool-size'];
  console.log(
    `With a pooler (DB_POOLER=transaction) in front of functions and workers, the server sees at most the pooler's pool size${poolSize ? ` (${poolSize})` : ''}, ` +
      'plus what runs on DIRECT_DATABASE_URL (migrations).',
  );
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
