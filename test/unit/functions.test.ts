/**
 * serverless.yml and the code agree on what each function serves: every function has an entry
 * module (custom.lambda.sources) whose `handler` routes exactly the events API Gateway sends it,
 * and the build writes it where the function's handler and package patterns point.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';

const ROOT = path.resolve(__dirname, '..', '..');
interface FunctionDef {
  handler: string;
  package?: { patterns?: string[] };
  reservedConcurrency?: number;
  environment?: Record<string, string>;
  events?: { httpApi?: { method: string; path: string }; websocket?: { route: string } }[];
}
const yml = load(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as {
  functions: Record<string, FunctionDef>;
  custom: { lambda: { sources: Record<string, string> } };
};
const functions = Object.entries(yml.functions);

it('gives every function an entry module, and no entry module without a function', () => {
  expect(Object.keys(yml.custom.lambda.sources).sort()).toEqual(Object.keys(yml.functions).sort());
});

it.each(functions)('%s: handler and package point at its built folder', (name, fn) => {
  expect(fn.handler).toBe(`\${self:custom.lambda.dir}/${name}/index.handler`);
  expect(fn.package?.patterns).toEqual([`\${self:custom.lambda.dir}/${name}/**`]);
});

it.each(functions.filter(([, fn]) => fn.events?.length))('%s: its handler routes exactly its events', async (name, fn) => {
  const mod = (await import(path.join(ROOT, yml.custom.lambda.sources[name]!))) as { handler: { routeKeys?: string[] } };
  const keys = fn.events!.map((e) => (e.httpApi ? `${e.httpApi.method} ${e.httpApi.path}` : e.websocket!.route));
  // A one-route function's handler serves that route whatever its key.
  if (keys.length > 1 || mod.handler.routeKeys) expect([...(mod.handler.routeKeys ?? [])].sort()).toEqual([...keys].sort());
});

it.each(functions)('%s: tells its container its reserved concurrency, for /health', (_name, fn) => {
  expect(fn.environment?.AGENDA_RESERVED_CONCURRENCY).toBe(String(fn.reservedConcurrency));
});
