import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Builds the worker bundle as the Dockerfile does (`npm run build:worker`), straight into a fresh
 * directory outside the repo, so that nothing the bundle forgot can be found in the repo's
 * node_modules. The caller removes the directory.
 */
export function buildWorkerBundle(): string {
  const dir = mkdtempSync(path.join(realpathSync(os.tmpdir()), 'agenda-worker-bundle-'));
  execFileSync('npm', ['run', '--silent', 'build:worker', '--', dir], { cwd: path.join(__dirname, '..', '..'), stdio: 'pipe', timeout: 120_000 });
  return dir;
}
