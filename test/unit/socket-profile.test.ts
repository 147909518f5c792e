/**
 * The socket profile has no Redis (../shared design: lazy pool, no Redis): the WebSocket functions'
 * bundles must not reach the Redis client, the queues or their libraries, however an import chain
 * gets there (a shared module that starts enqueueing would pull them in silently). Checked on the
 * bundle esbuild makes of each handler, as serverless-esbuild does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');
const FORBIDDEN = [/node_modules\/ioredis\//, /node_modules\/bullmq\//, /^lib\/redis\/client\.ts$/, /^lib\/queues\/queues\.ts$/];

/** The WebSocket handlers as serverless.yml declares them (`handler: functions/ws/<file>.<export>`). */
const socketHandlers = [
  ...new Set([...readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8').matchAll(/handler:\s*(functions\/ws\/[\w-]+)\.\w+/g)].map((m) => m[1]!)),
];

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

it('finds the WebSocket handlers in serverless.yml', () => {
  expect(socketHandlers).toEqual(expect.arrayContaining(['functions/ws/connection', 'functions/ws/default']));
});

it.each(socketHandlers)('%s bundles neither Redis nor the queues', async (entry) => {
  const inputs = await bundledInputs(entry);
  expect(inputs).toContain('lib/db/client.ts'); // the bundle is real: it reaches the database
  expect(inputs.filter((i) => FORBIDDEN.some((f) => f.test(i)))).toEqual([]);
}, 60_000);

it('would catch a handler that reaches the queues', async () => {
  const inputs = await bundledInputs('functions/http/api-keys');
  expect(inputs.filter((i) => FORBIDDEN.some((f) => f.test(i))).length).toBeGreaterThan(0);
}, 60_000);
