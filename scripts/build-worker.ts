import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { BUNDLED_UI_DIR } from '../worker/dashboard-assets';

const root = path.join(__dirname, '..');

/**
 * `npm run build:worker [outDir]` (default dist/worker): the worker container as one CommonJS file
 * (every dependency inside; pg's optional native binding is never used), plus what cannot be
 * bundled: @bull-board/ui's page template and static assets, which Bull Board reads from disk, in
 * a folder beside main.js (worker/dashboard-assets.ts finds it there). Beside them `migrate.js`
 * and the `migrations/` it applies, so the image can migrate a database without tsx or the source
 * tree. The output folder is all the Docker image copies.
 */
async function main() {
  const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'worker'));
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { main: path.join(root, 'worker', 'main.ts'), migrate: path.join(root, 'worker', 'migrate.ts') },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external: ['pg-native'],
    outdir: outDir,
    logLevel: 'warning',
  });
  rmSync(path.join(outDir, 'migrations'), { recursive: true, force: true });
  cpSync(path.join(root, 'prisma', 'migrations'), path.join(outDir, 'migrations'), { recursive: true });
  // The UI that matches our @bull-board/api (the one whose createBullBoard renders it).
  const ui = path.dirname(require.resolve('@bull-board/ui/package.json', { paths: [root] }));
  const target = path.join(outDir, BUNDLED_UI_DIR);
  rmSync(target, { recursive: true, force: true });
  cpSync(path.join(ui, 'dist'), path.join(target, 'dist'), { recursive: true });
  cpSync(path.join(ui, 'package.json'), path.join(target, 'package.json'));
}

main().catch((err: Error) => {
  console.error(`build:worker failed: ${err.message}`);
  process.exit(1);
});
