import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder beside the worker's single-file bundle that holds @bull-board/ui's page template and
 * static assets: a bundle carries code only, and Bull Board reads those files from disk at run
 * time. scripts/build-worker.ts copies them there; the Docker image ships the folder with main.js.
 */
export const BUNDLED_UI_DIR = 'bull-board-ui';

/**
 * Bull Board's `uiBasePath` (the folder whose `dist/` holds index.ejs and static/): beside the
 * bundle when running from one, else the installed @bull-board/ui. Undefined when neither exists.
 * `bundleDir` is this module's folder, which in a bundle is the bundle's.
 */
export function findBullBoardUi(bundleDir: string = __dirname): string | undefined {
  const beside = path.join(bundleDir, BUNDLED_UI_DIR);
  if (existsSync(path.join(beside, 'dist', 'index.ejs'))) return beside;
  try {
    return path.dirname(require.resolve('@bull-board/ui/package.json'));
  } catch {
    return undefined;
  }
}
