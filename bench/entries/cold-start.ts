import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { load } from 'js-yaml';
import { buildEntry } from '../../scripts/build-lambda';
import { benchClinicName, CONSULTATIONS, insertProfessional, openFixtureClient, removeBenchClinic } from '../support/scheduling';
import { summarize } from '../support/stats';
import type { BenchEntry, BenchResult } from '../types';

const ROOT = path.resolve(__dirname, '..', '..');
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const WARMUP = Number(process.env.BENCH_COLD_WARMUP ?? 1);
const ZIP_LIMIT = 1.5 * 1024 * 1024;
const CHILD = path.join(__dirname, '..', 'cold-start', 'child.mjs');

interface FunctionDef {
  environment?: Record<string, string>;
  events?: { httpApi?: { method: string; path: string }; websocket?: { route: string } }[];
}

/** One process: how long it lived (wall, measured from here) and what it reported. */
interface Run {
  wallMs: number;
  importMs: number;
  answerMs: number;
  cpuMs: number;
  status?: number;
}

function runChild(dir: string, event: unknown, env: NodeJS.ProcessEnv): Run {
  const args = [CHILD, dir, ...(event ? [JSON.stringify(event)] : [])];
  const started = process.hrtime.bigint();
  const out = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  if (out.status !== 0 || !line.startsWith('{')) throw new Error(`cold start of ${dir} failed (${out.status}): ${out.stderr.slice(-1500)}`);
  return { wallMs, ...(JSON.parse(line) as Omit<Run, 'wallMs'>) };
}

const httpEvent = (method: string, routeKey: string, rawPath: string, headers: Record<string, string>, query: Record<string, string> = {}, pathParameters?: Record<string, string>) => ({
  version: '2.0',
  routeKey,
  rawPath,
  rawQueryString: new URLSearchParams(query).toString(),
  headers: { host: 'bench.local', 'accept-language': 'en', ...headers },
  ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
  ...(pathParameters ? { pathParameters } : {}),
  requestContext: { http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: randomUUID(), routeKey, stage: '$default', timeEpoch: Date.now() },
  isBase64Encoded: false,
});

/** Sizes and file counts of a folder, recursively. */
function folderSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = folderSize(p);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += statSync(p).size;
      files += 1;
    }
  }
  return { bytes, files };
}

const median = (values: number[]) => summarize(values).p50;
const fmt = (v: number) => v.toFixed(0);
const x = (v: number) => `${v.toFixed(2)}x`;

async function run(): Promise<BenchResult> {
  const notes: string[] = [];
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'agenda-cold-'));
  const lambdaDir = path.join('.offline-builds', `cold-start-${randomUUID().slice(0, 8)}`);
  const pg = await openFixtureClient(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/agenda');
  let clinicId: string | undefined;
  try {
    // What `serverless deploy` would upload: the zips of `serverless package`.
    const pkg = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'serverless'), ['package', '--stage', 'dev', '--package', path.join(tmp, 'package')], {
      cwd: ROOT,
      env: { ...process.env, AGENDA_LAMBDA_DIR: lambdaDir, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      encoding: 'utf8',
    });
    if (pkg.status !== 0) throw new Error(`serverless package failed: ${pkg.stdout.slice(-1500)}${pkg.stderr.slice(-1500)}`);
    const yml = load(await readFile(path.join(ROOT, 'serverless.yml'), 'utf8')) as { functions: Record<string, FunctionDef> };
    const hello = path.join(tmp, 'hello');
    await buildEntry({ name: 'hello', source: path.relative(ROOT, path.join(__dirname, '..', 'cold-start', 'hello.ts')), outdir: hello, mapsDir: path.join(tmp, 'hello-maps'), sourcemap: 'none' });

    const { createClinic } = await import('../../lib/domain/tenancy/clinics');
    const created = await createClinic({ name: benchClinicName('cold-start'), timeZone: 'America/Sao_Paulo' });
    clinicId = created.clinic.id;
    const professionalId = await insertProfessional(pg, clinicId, CONSULTATIONS, 'Cold start');
    const auth = { authorization: `Bearer ${created.apiKey.key}` };
    const adminSecret = `bench-${randomUUID()}`;
    const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
    /** A first request per function: a cheap read through its whole stack (auth, rate limit, database). */
    const firstRequests: Record<string, unknown> = {
      health: httpEvent('GET', 'GET /health', '/health', {}),
      docs: httpEvent('GET', 'GET /openapi.json', '/openapi.json', {}),
      admin: httpEvent('GET', 'GET /admin/canaries/{id}', `/admin/canaries/${randomUUID()}`, { authorization: `Bearer ${adminSecret}` }, {}, { id: randomUUID() }),
      clinic: httpEvent('GET', 'GET /v1/clinic', '/v1/clinic', auth),
      professionals: httpEvent('GET', 'GET /v1/professionals', '/v1/professionals', auth),
      availability: httpEvent('GET', 'GET /v1/professionals/{id}/slots', `/v1/professionals/${professionalId}/slots`, auth, { from: day(1), to: day(8) }, { id: professionalId }),
      patients: httpEvent('GET', 'GET /v1/patients', '/v1/patients', auth),
      appointments: httpEvent('GET', 'GET /v1/appointments', '/v1/appointments', auth),
      controls: httpEvent('GET', 'GET /v1/controls', '/v1/controls', auth),
      webhooks: httpEvent('GET', 'GET /v1/webhooks', '/v1/webhooks', auth),
      // $connect takes a single-use ticket: each run gets its own (eventOf below).
      socket: {
        requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: `bench-${randomUUID()}`, domainName: 'localhost', stage: 'bench', requestId: randomUUID(), apiId: 'bench', connectedAt: Date.now(), requestTimeEpoch: Date.now() },
        isBase64Encoded: false,
      },
    };
    // Minted right before each use: a ticket lives REALTIME_TICKET_TTL_S (60 s), less than the whole run.
    const { mintTicket } = await import('../../lib/domain/realtime/tickets');
    const eventOf = async (name: string) => {
      const event = firstRequests[name];
      if (name !== 'socket' || !event) return event;
      const { ticket } = await mintTicket({ clinicId: created.clinic.id, apiKeyId: created.apiKey.id });
      return { ...(event as object), queryStringParameters: { ticket } };
    };
    const baseEnv = {
      ...process.env,
      LOG_LEVEL: 'SILENT',
      NODE_OPTIONS: '',
      ADMIN_SECRET: adminSecret,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    };

    const rows: string[][] = [];
    const data: Record<string, unknown> = {};
    let helloImport: number[] = [];
    for (const [name, fn] of Object.entries(yml.functions)) {
      const zipPath = path.join(tmp, 'package', `${name}.zip`);
      const zipBytes = statSync(zipPath).size;
      const unzipped = path.join(tmp, 'unzipped', name);
      new AdmZip(zipPath).extractAllTo(unzipped, true);
      const dir = path.join(unzipped, lambdaDir, name);
      const env = { ...baseEnv, AGENDA_PROFILE: 'api', ...fn.environment };
      const imports: Run[] = [];
      const answers: Run[] = [];
      const importRatios: number[] = [];
      const answerRatios: number[] = [];
      const helloRuns: Run[] = [];
      // Pairs in turn (function, then hello; next pair the other way round), so drift hits both alike.
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const pair = (a: () => Run, b: () => Run): [Run, Run] => {
          if (i % 2 === 0) {
            const first = a();
            return [first, b()];
          }
          const first = b();
          return [a(), first];
        };
        const [fi, hi] = pair(() => runChild(dir, undefined, env), () => runChild(hello, undefined, baseEnv));
        const event = await eventOf(name);
        const [fa, ha] = event ? pair(() => runChild(dir, event, env), () => runChild(hello, { version: '2.0' }, baseEnv)) : [undefined, undefined];
        if (i < WARMUP) continue;
        imports.push(fi);
        helloRuns.push(hi);
        importRatios.push(fi.wallMs / hi.wallMs);
        if (fa && ha) {
          answers.push(fa);
          answerRatios.push(fa.wallMs / ha.wallMs);
        }
      }
      helloImport = helloImport.concat(helloRuns.map((r) => r.wallMs));
      const unpacked = folderSize(dir);
      const status = answers[0]?.status;
      if (answers.some((a) => a.status !== status)) notes.push(`${name}: first answers differ in status`);
      rows.push([
        name,
        (zipBytes / 1024).toFixed(0),
        zipBytes <= ZIP_LIMIT ? 'yes' : 'NO',
        String(unpacked.files),
        fmt(median(imports.map((r) => r.wallMs))),
        x(median(importRatios)),
        answers.length ? fmt(median(answers.map((r) => r.wallMs))) : '-',
        answers.length ? x(median(answerRatios)) : '-',
        answers.length ? fmt(median(answers.map((r) => r.cpuMs))) : '-',
        status === undefined ? '-' : String(status),
      ]);
      data[name] = { zipBytes, unpacked, imports, answers, importRatios, answerRatios, hello: helloRuns };
    }
    notes.push(
      `hello-world process (built the same way): median ${fmt(median(helloImport))} ms wall; a function's ratio is its process time over the hello process time of the same pair, median over ${RUNS} pairs.`,
      'jobRunner: import only (its first answer would be a queue job).',
    );
    return {
      params: { runs: RUNS, warmup: WARMUP, node: process.version },
      tables: [
        {
          title: 'Cold start per function (fresh Node process; wall ms, median)',
          columns: ['function', 'zip KiB', '<= 1.5 MB', 'files', 'import ms', 'import / hello', 'import + first answer ms', '/ hello', 'cpu ms', 'status'],
          rows,
        },
      ],
      data,
      notes,
    };
  } finally {
    if (clinicId) await removeBenchClinic(pg, clinicId).catch(() => undefined);
    await pg.end();
    await rm(tmp, { recursive: true, force: true });
    await rm(path.join(ROOT, lambdaDir), { recursive: true, force: true });
    await rm(path.join(ROOT, `${lambdaDir}-maps`), { recursive: true, force: true });
  }
}

export const coldStart: BenchEntry = {
  name: 'Cold start',
  description:
    'Each packaged function (the zip `serverless package` makes) unzipped and started in fresh Node processes, import alone and import plus a first answer against the real PostgreSQL and Redis, next to a hello-world handler built the same way',
  run,
};
