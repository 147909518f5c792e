import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants } from 'node:zlib';
import type { Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');

/** The Prisma query compiler's file beside each function's code (see prismaCompilerAsFile). */
export const COMPILER_FILE = 'query_compiler.wasm.br';
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
export function prismaCompilerAsFile(): Plugin {
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
export function pgWithoutCloudflareProbe(): Plugin {
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
 * messages are pt-BR and English (lib/platform/i18n) and it never calls `z.locales`: only English, zod's
 * default, is kept.
 */
export function zodEnglishOnly(): Plugin {
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
