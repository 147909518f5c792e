import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompress, constants as zlibConstants } from 'node:zlib';
import { promisify } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { load } from 'js-yaml';

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

export async function buildLambda(opts: LambdaBuildOptions): Promise<FunctionBuild[]> {
  const sources = await lambdaSources();
  const names = opts.only ?? Object.keys(sources);
  const mapsDir = opts.mapsDir ?? `${opts.outDir.replace(/\/$/, '')}-maps`;
  return Promise.all(
    names.map(async (name) => {
      const source = sources[name];
      if (!source) throw new Error(`serverless.yml: no source for function ${name}`);
      return buildEntry({ name, source, outdir: path.resolve(ROOT, opts.outDir, name), mapsDir: path.resolve(ROOT, mapsDir, name), sourcemap: opts.sourcemap });
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

const COMPILER_FILE = 'query_compiler.wasm.br';
const compressed = new Map<string, Promise<Buffer>>();

/** The compiler's bytes, brotli-compressed once per build for every function that needs them. */
function compressedCompiler(module: string): Promise<Buffer> {
  let bytes = compressed.get(module);
  if (!bytes) {
    const { wasm } = require(require.resolve(module, { paths: [ROOT] })) as { wasm: string };
    const raw = Buffer.from(wasm, 'base64');
    bytes = promisify(brotliCompress)(raw, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    compressed.set(module, bytes);
  }
  return bytes;
}

/**
 * Prisma's generated client imports its query compiler as a base64 string (2-4 MB of JavaScript).
 * Here that import becomes a read of a file beside the function's code, loaded when the first
 * query needs it: the `.wasm` compressed with brotli, a fifth smaller in the zip than the zip's
 * own deflate makes it, for a few milliseconds of decompression once per container. Prisma turns
 * the value into bytes with `Buffer.from`, which copies a Buffer as it is.
 */
function prismaCompilerAsFile(): Plugin {
  const filter = /^@prisma\/client\/runtime\/query_compiler_[\w.]+\.wasm-base64\.js$/;
  return {
    name: 'prisma-compiler-as-file',
    setup(b) {
      let module: string | undefined;
      b.onResolve({ filter }, (args) => {
        module = args.path;
        return { path: args.path, namespace: 'prisma-compiler' };
      });
      // The compiler's JavaScript glue: its ES module build, whose named exports Prisma hands to the
      // WebAssembly instance (the CommonJS build, imported from an ES module, would only have a default).
      b.onResolve({ filter: /^@prisma\/client\/runtime\/query_compiler_[\w.]+_bg\.\w+\.js$/ }, (args) => ({
        path: require.resolve(args.path.replace(/\.js$/, '.mjs'), { paths: [ROOT] }),
      }));
      b.onLoad({ filter: /.*/, namespace: 'prisma-compiler' }, () => ({
        contents: [
          "import { readFileSync } from 'node:fs';",
          "import { brotliDecompressSync } from 'node:zlib';",
          `export const wasm = brotliDecompressSync(readFileSync(new URL('./${COMPILER_FILE}', import.meta.url)));`,
        ].join('\n'),
        loader: 'js',
      }));
      b.onEnd(async (result) => {
        if (!module || result.errors.length > 0) return;
        await writeFile(path.join(b.initialOptions.outdir!, COMPILER_FILE), await compressedCompiler(module));
      });
    },
  };
}

/**
 * pg asks at load whether it runs on Cloudflare Workers by constructing a `Response`, which makes
 * Node 20 load its whole fetch implementation (undici): tens of milliseconds of every cold start,
 * for a runtime this product never uses.
 */
function pgWithoutCloudflareProbe(): Plugin {
  const probe = 'if (isCloudflareRuntime()) {';
  return {
    name: 'pg-without-cloudflare-probe',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
        const code = await readFile(args.path, 'utf8');
        if (!code.includes(probe)) throw new Error(`pg changed: "${probe}" not found in ${args.path}; review this plugin`);
        return { contents: code.replace(probe, 'if (false) {'), loader: 'js' };
      });
    },
  };
}

/**
 * `import { z } from 'zod'` makes esbuild keep the whole `z` namespace, `z.locales` included: error
 * messages in some 50 languages, over half of zod's code in every bundle. The product's own
 * messages are pt-BR and English (lib/i18n) and it never calls `z.locales`: only English, zod's
 * default, is kept.
 */
function zodEnglishOnly(): Plugin {
  return {
    name: 'zod-english-only',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
        /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: path.join(path.dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
        contents: `export { default as en } from ${JSON.stringify(args.path)};`,
        loader: 'js',
        resolveDir: path.dirname(args.path),
      }));
    },
  };
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
