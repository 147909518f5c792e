/**
 * What each function loads at import (its index.mjs and the chunks it imports statically), from the
 * real build (scripts/build-lambda.ts): none of the heavy libraries, which load on first use (pg and
 * Prisma at the first query, ioredis at the first Redis call, BullMQ at the first enqueue, the AWS
 * SDK at the first push). A static import of one of them anywhere on a handler's path would bring
 * it back into every cold start. The docs function reaches no database code at all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { buildLambda, type FunctionBuild } from '../../scripts/build-lambda';

const LAZY = ['node_modules/pg/', 'node_modules/@prisma/', 'node_modules/ioredis/', 'node_modules/bullmq/', 'node_modules/@aws-sdk/', 'node_modules/nodemailer/'];

let tmp: string;
let built: FunctionBuild[];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'agenda-bundles-'));
  built = await buildLambda({ outDir: path.join(tmp, 'lambda'), mapsDir: path.join(tmp, 'maps'), sourcemap: 'none' });
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Inputs of the outputs reachable from index.mjs through static imports; or through any import. */
function inputs(meta: Metafile, staticOnly: boolean): string[] {
  const outputs = meta.outputs;
  const entry = Object.keys(outputs).find((o) => o.endsWith('/index.mjs'))!;
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const out = stack.pop()!;
    if (seen.has(out)) continue;
    seen.add(out);
    for (const i of outputs[out]!.imports) if (outputs[i.path] && (!staticOnly || i.kind === 'import-statement')) stack.push(i.path);
  }
  return [...seen].flatMap((o) => Object.keys(outputs[o]!.inputs));
}

const heavy = (files: string[]) => [...new Set(files.flatMap((f) => LAZY.filter((l) => f.includes(l))))];

it('builds every function', () => {
  expect(built.map((f) => f.name).sort()).toEqual(
    ['admin', 'appointments', 'availability', 'clinic', 'controls', 'docs', 'health', 'jobRunner', 'migrate', 'patients', 'professionals', 'socket', 'webhooks'].sort(),
  );
});

it('loads no heavy library at import, in any function', () => {
  const found = Object.fromEntries(built.map((f) => [f.name, heavy(inputs(f.metafile, true))]));
  expect(found).toEqual(Object.fromEntries(built.map((f) => [f.name, []])));
});

it('would see a heavy library in a chunk loaded later (the check is real)', () => {
  const appointments = built.find((f) => f.name === 'appointments')!;
  expect(heavy(inputs(appointments.metafile, false))).toEqual(expect.arrayContaining(['node_modules/@prisma/', 'node_modules/bullmq/', 'node_modules/ioredis/']));
});

it('keeps the docs function free of database and Redis code, even lazily', () => {
  const docs = built.find((f) => f.name === 'docs')!;
  const lazy = inputs(docs.metafile, false);
  // Only the secret stores' clients, loaded at a cold start whose environment holds a reference
  // (lib/platform/secrets/load-secrets.ts, run by the base handler of every function).
  expect(heavy(lazy).filter((l) => l !== 'node_modules/@aws-sdk/')).toEqual([]);
  expect([...new Set(lazy.flatMap((f) => /node_modules\/@aws-sdk\/(client-[^/]+)\//.exec(f)?.[1] ?? []))].sort()).toEqual(['client-secrets-manager', 'client-ssm']);
  expect(docs.files.map((f) => f.file).filter((f) => !f.endsWith('.mjs'))).toEqual([]); // no query compiler
});
