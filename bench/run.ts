/**
 * `npm run bench [-- <entry name>...]`: runs the registered benchmarks (bench/entries/index.ts) in
 * order in this one process, prints a markdown table per entry, and writes bench/results/latest.json
 * (and latest.md) with the machine they ran on. Needs the PostgreSQL and Redis of DATABASE_URL and
 * REDIS_URL, with the database migrated (`npm run db:migrate`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchEntry, BenchResult } from './types';

// Set before lib/ loads (it is imported dynamically below): the logger reads LOG_LEVEL on import,
// and log lines would both swamp the output and add their cost to every measured invocation.
process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'SILENT';
process.env.AGENDA_PROFILE ??= 'api';
// The availability and booking entries send thousands of requests with one API key through
// clinicRoute; the limiter still runs (one Redis consume per request, as in production) but never
// answers 429. 1,000,000 is the highest value the config schema accepts.
process.env.RATE_LIMIT_POINTS ??= '1000000';
// The queue entries obliterate their queues and run the worker's consumers on them: never the
// product's (bench/support/bench-env.ts checks). Loopback is only for the bench's own webhook receiver.
process.env.QUEUE_PREFIX ??= 'agenda-bench';
process.env.WEBHOOKS_ALLOW_LOOPBACK ??= 'true';

const RESULTS_DIR = path.join(__dirname, 'results');
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

function select(entries: readonly BenchEntry[], wanted: string[]): readonly BenchEntry[] {
  if (wanted.length === 0) return entries;
  const unknown = wanted.filter((w) => !entries.some((e) => slug(e.name) === slug(w)));
  if (unknown.length > 0) {
    throw new Error(`Unknown bench entry: ${unknown.join(', ')}. Known: ${entries.map((e) => slug(e.name)).join(', ')}`);
  }
  return entries.filter((e) => wanted.some((w) => slug(w) === slug(e.name)));
}

async function main(): Promise<void> {
  const { ENTRIES } = await import('./entries');
  const { getConfig } = await import('../lib/platform/config');
  const { closeAll } = await import('../lib/platform/lifecycle/close-all');
  const { ServerMonitor } = await import('./support/server-counters');
  const { describeMachine } = await import('./support/machine');
  const { machineMarkdown, markdownTable } = await import('./support/markdown');

  const entries = select(ENTRIES, process.argv.slice(2));
  const config = getConfig();
  const monitor = await ServerMonitor.open(config.db.url, config.redis.url);
  const machine = describeMachine(await monitor.serverVersions().finally(() => monitor.close()));
  const startedAt = new Date();
  const results: (BenchResult & { name: string; description: string; durationMs: number })[] = [];
  const markdown: string[] = [`Run ${startedAt.toISOString()}. ${machineMarkdown(machine)}`];
  console.log(markdown[0]);
  try {
    for (const entry of entries) {
      const started = performance.now();
      const result = await entry.run();
      const durationMs = Math.round(performance.now() - started);
      results.push({ name: entry.name, description: entry.description, durationMs, ...result });
      const params = Object.entries(result.params).map(([k, v]) => `${k}=${v}`).join(', ');
      const section = [
        `### ${entry.name}`,
        '',
        `${entry.description} (${params}; ${(durationMs / 1000).toFixed(1)} s)`,
        ...result.tables.flatMap((t) => ['', `${t.title}:`, '', markdownTable(t)]),
        ...(result.notes.length ? ['', ...result.notes.map((n) => `- ${n}`)] : []),
      ].join('\n');
      markdown.push(section);
      console.log(`\n${section}`);
    }
  } finally {
    await closeAll();
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  const finishedAt = new Date();
  const json = { startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), machine, entries: results };
  await writeFile(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, 'latest.md'), `${markdown.join('\n\n')}\n`);
  console.log(`\nWrote ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'latest.json'))} and latest.md`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
