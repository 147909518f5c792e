import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');

/**
 * The import rules of .dependency-cruiser.cjs applied to `paths` under `cwd`, one line per broken
 * rule: `rule: from -> to`, or for a cycle `rule: a -> b -> a`. Runs the CLI (the package is ESM only).
 */
export function brokenImportRules(cwd: string, paths: string[]): string[] {
  const out = execFileSync(path.join(ROOT, 'node_modules', '.bin', 'depcruise'), [...paths, '--config', CONFIG, '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const { summary } = JSON.parse(out) as {
    summary: { violations: Array<{ from: string; to: string; rule: { name: string }; cycle?: Array<{ name: string }> }> };
  };
  return summary.violations
    .map((v) => `${v.rule.name}: ${v.cycle ? [v.from, ...v.cycle.map((c) => c.name)].join(' -> ') : `${v.from} -> ${v.to}`}`)
    .sort();
}

/** A throwaway tree of `files` (relative path -> source) with a tsconfig, to check the checker; `removeTree` deletes it. */
export function sampleTree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'import-rules-'));
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'es2022', strict: true } }));
  copyFileSync(CONFIG, path.join(dir, '.dependency-cruiser.cjs'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

export const removeTree = (dir: string) => rmSync(dir, { recursive: true, force: true });
