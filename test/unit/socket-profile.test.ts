/**
 * The socket profile has no Redis (../shared design: lazy pool, no Redis): the WebSocket functions'
 * bundles must not reach the Redis client, the queues or their libraries, however an import chain
 * gets there (a shared module that starts enqueueing would pull them in silently). Checked on
 * everything esbuild bundles for each function's entry, chunks loaded on demand included.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { load } from 'js-yaml';

const ROOT = path.resolve(__dirname, '..', '..');
const FORBIDDEN = [/node_modules\/ioredis\//, /node_modules\/bullmq\//, /^lib\/platform\/redis\/client\.ts$/, /^lib\/platform\/queues\/queues\.ts$/];

const yml = load(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as {
  functions: Record<string, { environment?: Record<string, string> }>;
  custom: { lambda: { sources: Record<string, string> } };
};
/** The entry modules of the functions serverless.yml runs under the socket profile. */
const socketHandlers = Object.entries(yml.functions)
  .filter(([, fn]) => fn.environment?.AGENDA_PROFILE === 'socket')
  .map(([name]) => yml.custom.lambda.sources[name]!.replace(/\.ts$/, ''));

async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(ROOT, `${entry}.ts`)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['pg-native'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

it('finds the WebSocket function in serverless.yml', () => {
  expect(socketHandlers).toEqual(['functions/ws/socket']);
});

it.each(socketHandlers)('%s bundles neither Redis nor the queues', async (entry) => {
  const inputs = await bundledInputs(entry);
  expect(inputs).toContain('lib/platform/db/client.ts'); // the bundle is real: it reaches the database
  expect(inputs.filter((i) => FORBIDDEN.some((f) => f.test(i)))).toEqual([]);
}, 60_000);

it('would catch a handler that reaches the queues', async () => {
  const inputs = await bundledInputs('functions/http/clinic');
  expect(inputs.filter((i) => FORBIDDEN.some((f) => f.test(i))).length).toBeGreaterThan(0);
}, 60_000);
