import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `npm run dev`: migrations, demo data, then serverless offline (HTTP, WebSocket and Lambda ports)
 * and the worker together, with their URLs printed. Ctrl-C stops both.
 */
const root = path.join(__dirname, '..');
if (existsSync(path.join(root, '.env'))) process.loadEnvFile(path.join(root, '.env'));

const env = process.env;
env.AGENDA_PROFILE = 'api';
env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/agenda';
env.REDIS_URL ??= 'redis://127.0.0.1:6379';
env.HTTP_PORT ??= '3000';
env.WEBSOCKET_PORT ??= '3001';
env.LAMBDA_PORT ??= '3002';
env.WORKER_HEALTH_PORT ??= '3100';
env.DASHBOARD_PORT ??= '3101';
env.LAMBDA_ENDPOINT ??= `http://localhost:${env.LAMBDA_PORT}`;
env.WEBSOCKET_ENDPOINT ??= `http://localhost:${env.WEBSOCKET_PORT}`;
env.ADMIN_SECRET ??= `dev-${randomBytes(12).toString('hex')}`;
// serverless-offline accepts any credentials; the SDK only needs some to sign requests.
env.AWS_ACCESS_KEY_ID ??= 'local';
env.AWS_SECRET_ACCESS_KEY ??= 'local';
env.SLS_TELEMETRY_DISABLED = '1';
env.SLS_NOTIFICATIONS_MODE = 'off';
env.LOG_LEVEL ??= 'WARN';

const children: ChildProcess[] = [];

function start(label: string, command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => console.log(`[${label}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    console.log(`[${label}] exited (${signal ?? code})`);
    if (stopping) return;
    // The worker exits 75 when Redis stayed unreachable through its reconnects: restart it, as a
    // container platform would, instead of stopping everything.
    if (code === WORKER_RESTART_CODE && restartable.has(label)) {
      console.log(`[${label}] restarting in 5 s`);
      setTimeout(() => !stopping && start(label, command, args, extraEnv), 5_000).unref();
      return;
    }
    void stop(1);
  });
  children.push(child);
  return child;
}

/** worker/main.ts's exit code after giving up on Redis (EX_TEMPFAIL). */
const WORKER_RESTART_CODE = 75;
const restartable = new Set(['worker']);

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.status < 500, () => false);
    if (ok) return;
    await sleep(500);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  for (const child of children) {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        /* already gone */
      }
    }
  }
  // The worker drains for up to WORKER_SHUTDOWN_TIMEOUT_MS, then closes its connections (5 s bound).
  const deadline = Date.now() + Number(env.WORKER_SHUTDOWN_TIMEOUT_MS ?? 25_000) + 10_000;
  while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await sleep(100);
  for (const child of children) if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  process.exit(code);
}

async function main() {
  const { migrate } = await import('../lib/platform/db/migrator');
  const { getConfig } = await import('../lib/platform/config');
  const result = await migrate({
    // DIRECT_DATABASE_URL when DATABASE_URL goes through a transaction pooler.
    databaseUrl: getConfig().db.sessionUrl,
    migrationsDir: path.join(root, 'prisma', 'migrations'),
    createDatabase: true,
  });
  console.log(`[dev] migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
  const { seed } = await import('../prisma/seed');
  const { closeAll } = await import('../lib/platform/lifecycle/close-all');
  const seeded = await seed();
  await closeAll();
  console.log(`[dev] demo data: clinic ${seeded.clinicId}`);

  const mailPort = Number(env.SMTP_PORT ?? 1025);
  if (!env.SMTP_URL) {
    const { startMailCatcher } = await import('./mail-catcher');
    await startMailCatcher(mailPort, (line) => console.log(`[mail] ${line}`));
    env.SMTP_URL = `smtp://127.0.0.1:${mailPort}`;
  }
  const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
  // Source maps in development only: the build links them beside the code when Node is told to
  // use them (scripts/serverless-lambda-build.cjs); deployed functions carry none.
  start('api', bin('serverless'), ['offline', 'start'], { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --enable-source-maps`.trim() });
  start('worker', bin('tsx'), ['worker/main.ts'], { AGENDA_PROFILE: 'worker' });
  await Promise.all([
    waitFor(`http://localhost:${env.HTTP_PORT}/health`, 120_000),
    waitFor(`http://localhost:${env.WORKER_HEALTH_PORT}/health`, 60_000),
  ]);
  console.log(`
  Agenda is running (Ctrl-C stops everything)

    HTTP API        http://localhost:${env.HTTP_PORT}        (try: curl -H "authorization: Bearer <admin secret>" http://localhost:${env.HTTP_PORT}/health)
    WebSocket API   ws://localhost:${env.WEBSOCKET_PORT}/?ticket=<ticket>   (a ticket: curl -XPOST -H "authorization: Bearer <key>" http://localhost:${env.HTTP_PORT}/v1/realtime/tickets)
    Lambda invoke   ${env.LAMBDA_ENDPOINT}
    Worker health   http://localhost:${env.WORKER_HEALTH_PORT}/health
    Queue dashboard ${env.DASHBOARD_PASSWORD ? `http://127.0.0.1:${env.DASHBOARD_PORT}/admin/queues   (read-only unless DASHBOARD_READ_WRITE=true)` : 'off (set DASHBOARD_PASSWORD)'}
    E-mail          ${env.SMTP_URL}   (messages are printed here as [mail] lines)
    Admin secret    ${env.ADMIN_SECRET}
    Demo clinic     ${seeded.clinicId}
    Demo API key    ${seeded.apiKey}     (scopes read, write, admin; try: curl -H "authorization: Bearer <key>" http://localhost:${env.HTTP_PORT}/v1/clinic)
    Professional    ${seeded.professionalId}   (Mon-Sat 08:00-12:00, 13:00-18:00)
    Patient         ${seeded.patientId}   (joao@example.com)

  Book the first free slot (the confirmation e-mail prints below as a [mail] line):
    curl -H "authorization: Bearer ${seeded.apiKey}" "http://localhost:${env.HTTP_PORT}/v1/professionals/${seeded.professionalId}/slots?from=<YYYY-MM-DD>&to=<YYYY-MM-DD>"
    curl -XPOST -H "authorization: Bearer ${seeded.apiKey}" -H 'content-type: application/json' http://localhost:${env.HTTP_PORT}/v1/appointments \\
      -d '{"professionalId":"${seeded.professionalId}","patientId":"${seeded.patientId}","startsAt":"<start of a slot>"}'
`);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
main().catch((err: Error) => {
  console.error(`[dev] ${err.message}`);
  void stop(1);
});
