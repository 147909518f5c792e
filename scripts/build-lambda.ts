import { cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { load } from 'js-yaml';
import { COMPILER_FILE, pgWithoutCloudflareProbe, prismaCompilerAsFile, zodEnglishOnly } from './esbuild-plugins';

/**
 * Builds every Lambda function of serverless.yml into `<outDir>/<function>/`: one minified ES module
 * (`index.mjs`) plus the chunks it loads on demand, and Prisma's query compiler as a `.wasm` file
 * where the function reaches the database. `serverless offline` runs these files and
 * `serverless package` zips them (scripts/serverless-lambda-build.cjs), so what runs locally is
 * what deploys.
 *
 * Why not one bundle per handler as serverless-esbuild makes it: a cold start pays for every byte
 * V8 parses. Code split into chunks is parsed only when a route first needs it (BullMQ at the first
 * enqueue, the AWS SDK at the first push, Prisma's compiler at the first query), and the 2-4 MB
 * base64 string of the compiler never reaches the parser at all.
 */

const ROOT = path.resolve(__dirname, '..');

export interface LambdaBuildOptions {
  /** Where each function's folder is written (serverless.yml's `custom.lambda.dir`). */
  outDir: string;
  /**
   * `linked`: maps beside the code, referenced from it (local runs with --enable-source-maps);
   * `external`: maps moved to `mapsDir`, outside what is zipped and deployed; `none`: no maps.
   */
  sourcemap: 'linked' | 'external' | 'none';
  /** Where external maps and each function's esbuild metafile go (default `<outDir>-maps`). */
  mapsDir?: string;
  /** Only these functions (default: all). */
  only?: string[];
}

export interface FunctionBuild {
  name: string;
  source: string;
  /** Every file the function's folder holds, relative to it, with its size. */
  files: { file: string; bytes: number }[];
  metafile: Metafile;
}

/** The functions to build and their entry modules (serverless.yml `custom.lambda.sources`). */
export async function lambdaSources(): Promise<Record<string, string>> {
  const yml = load(await readFile(path.join(ROOT, 'serverless.yml'), 'utf8')) as { custom?: { lambda?: { sources?: Record<string, string> } } };
  const sources = yml.custom?.lambda?.sources;
  if (!sources || Object.keys(sources).length === 0) throw new Error('serverless.yml has no custom.lambda.sources');
  return sources;
}

/**
 * Folders a function reads from disk at run time, copied into its own folder (so into its zip):
 * the migrate function applies the SQL migrations shipped beside it (functions/deploy/migrate.ts).
 */
const FUNCTION_ASSETS: Record<string, { from: string; to: string }[]> = {
  migrate: [{ from: 'prisma/migrations', to: 'migrations' }],
};

export async function buildLambda(opts: LambdaBuildOptions): Promise<FunctionBuild[]> {
  const sources = await lambdaSources();
  const names = opts.only ?? Object.keys(sources);
  const mapsDir = opts.mapsDir ?? `${opts.outDir.replace(/\/$/, '')}-maps`;
  return Promise.all(
    names.map(async (name) => {
      const source = sources[name];
      if (!source) throw new Error(`serverless.yml: no source for function ${name}`);
      const outdir = path.resolve(ROOT, opts.outDir, name);
      const built = await buildEntry({ name, source, outdir, mapsDir: path.resolve(ROOT, mapsDir, name), sourcemap: opts.sourcemap });
      for (const asset of FUNCTION_ASSETS[name] ?? []) {
        await cp(path.join(ROOT, asset.from), path.join(outdir, asset.to), { recursive: true });
        built.files.push(...(await filesUnder(outdir, asset.to)));
      }
      return built;
    }),
  );
}

async function filesUnder(root: string, dir: string): Promise<{ file: string; bytes: number }[]> {
  const entries = await readdir(path.join(root, dir), { recursive: true, withFileTypes: true });
  return Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const file = path.relative(root, path.join(e.parentPath, e.name));
        return { file, bytes: (await stat(path.join(root, file))).size };
      }),
  );
}

/** One function's folder from its entry module; also what the cold-start bench builds its baseline with. */
export async function buildEntry(entry: { name: string; source: string; outdir: string; mapsDir: string; sourcemap: LambdaBuildOptions['sourcemap'] }): Promise<FunctionBuild> {
  const { name, source, outdir, mapsDir, sourcemap } = entry;
  await rm(outdir, { recursive: true, force: true });
  await rm(mapsDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { index: path.join(ROOT, source) },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // ES module builds first (the AWS SDK's, BullMQ's): their named exports survive a dynamic
    // import() into a chunk, and unused parts are dropped.
    mainFields: ['module', 'main'],
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    minify: true,
    // Names survive minification: errors are told apart by name (BullMQ's UnrecoverableError,
    // the product's AppError subclasses in logs), and stack traces stay readable.
    keepNames: true,
    sourcemap: sourcemap === 'none' ? false : sourcemap,
    sourcesContent: sourcemap === 'external',
    // CommonJS dependencies (pg, ioredis) call require() for Node's own modules.
    banner: { js: "import { createRequire as __agendaRequire } from 'node:module';\nconst require = __agendaRequire(import.meta.url);" },
    external: ['pg-native'],
    plugins: [prismaCompilerAsFile(), pgWithoutCloudflareProbe(), zodEnglishOnly()],
    metafile: true,
    logLevel: 'warning',
  });
  if (sourcemap === 'external') await moveMaps(result.metafile, outdir, mapsDir);
  await mkdir(mapsDir, { recursive: true });
  await writeFile(path.join(mapsDir, 'meta.json'), JSON.stringify(result.metafile));
  const files = Object.entries(result.metafile.outputs)
    .filter(([file]) => !(sourcemap === 'external' && file.endsWith('.map')))
    .map(([file, out]) => ({ file: path.relative(outdir, path.join(ROOT, file)), bytes: out.bytes }));
  const wasm = await readFile(path.join(outdir, COMPILER_FILE)).catch(() => undefined);
  if (wasm) files.push({ file: COMPILER_FILE, bytes: wasm.length });
  return { name, source, files, metafile: result.metafile };
}

async function moveMaps(metafile: Metafile, outdir: string, mapsDir: string): Promise<void> {
  await mkdir(mapsDir, { recursive: true });
  for (const file of Object.keys(metafile.outputs).filter((f) => f.endsWith('.map'))) {
    const from = path.join(ROOT, file);
    await rename(from, path.join(mapsDir, path.relative(outdir, from)));
  }
}

if (require.main === module) {
  const [outDir = 'dist/lambda', sourcemap = 'external'] = process.argv.slice(2);
  buildLambda({ outDir, sourcemap: sourcemap as LambdaBuildOptions['sourcemap'] })
    .then((built) => {
      for (const fn of built) {
        const total = fn.files.reduce((sum, f) => sum + f.bytes, 0);
        console.log(`${fn.name.padEnd(14)} ${(total / 1024).toFixed(0).padStart(6)} KiB in ${fn.files.length} files`);
      }
    })
    .catch((err: Error) => {
      console.error(err.message);
      process.exit(1);
    });
}
