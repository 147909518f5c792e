import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import yaml from 'js-yaml';
import type { RouteDoc } from '../../lib/http/openapi/document';
import { ROUTES as ALL_ROUTES } from '../../lib/http/openapi/routes';
import { newClinic } from '../support/clinic';
import { buildContext, buildHttpEvent, invoke, type HttpLambdaHandler } from '../support/invoke';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

/**
 * A corpus of bad inputs against every HTTP route of lib/http/openapi/routes.ts, invoked in process with
 * the function serverless.yml wires it to. Whatever the input: never a 5xx; every 4xx is JSON
 * `{ error: { code, message } }`; a 400 about a field names that field in `details`.
 *
 * Each route's cases run with a real clinic key and real ids (professional, patient, appointment,
 * control, time off), so the bad part of the request is the only thing wrong with it. Violations
 * are collected per route and reported together, with the input that caused them.
 */

// The admin routes are closed without a secret; read once by lib/platform/config on first use.
const ADMIN_SECRET = `corpus-admin-${randomUUID()}`;

const { appts, controls, pros, keys, adminFns, webhooks } = useSuite({
  // No DNS here: webhook endpoints point at loopback, allowed for this file only.
  env: { ADMIN_SECRET, WEBHOOKS_ALLOW_LOOPBACK: 'true' },
  modules: {
    appts: () => import('../../functions/http/appointments'),
    controls: () => import('../../functions/http/controls'),
    pros: () => import('../../functions/http/professionals'),
    keys: () => import('../../functions/http/clinic'),
    adminFns: () => import('../../functions/http/admin'),
    webhooks: () => import('../../functions/http/webhooks'),
  },
  obliterateQueues: true,
}).m;

const ROOT = path.join(__dirname, '..', '..');
const KIB = 1024;

// ---------------------------------------------------------------------------------------------
// Routes -> handlers, through serverless.yml
// ---------------------------------------------------------------------------------------------

interface ServerlessYml {
  functions: Record<string, { events?: { httpApi?: { method: string; path: string } }[] }>;
  custom: { lambda: { sources: Record<string, string> } };
}

/** "METHOD /path" -> the entry module of the function serverless.yml wires it to. */
function handlerPaths(): Map<string, string> {
  const doc = yaml.load(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as ServerlessYml;
  const out = new Map<string, string>();
  for (const [name, fn] of Object.entries(doc.functions)) {
    for (const ev of fn.events ?? []) {
      if (ev.httpApi) out.set(`${ev.httpApi.method.toUpperCase()} ${ev.httpApi.path}`, doc.custom.lambda.sources[name]!);
    }
  }
  return out;
}

/**
 * The function's handler, as Lambda calls it: it routes by the event's route key. Loaded by the
 * path serverless.yml names (that wiring is what the file checks), in the suite's module registry.
 */
function loadHandler(source: string): HttpLambdaHandler {
  const fn = require(path.join(ROOT, source)).handler;
  if (typeof fn !== 'function') throw new Error(`${source} exports no handler`);
  return fn as HttpLambdaHandler;
}

// ---------------------------------------------------------------------------------------------
// Sending one request
// ---------------------------------------------------------------------------------------------

interface Case {
  /** What is wrong, for the report. */
  name: string;
  headers?: Record<string, string | undefined>;
  /** Raw body text (sent as is) or a value sent as JSON. */
  raw?: string;
  body?: unknown;
  isBase64Encoded?: boolean;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  /** The status this input must get, when it is certain. */
  status?: number | number[];
  /** A 400 must name this field in details (exactly, or as the prefix of a nested path). */
  field?: string;
}

interface Outcome {
  status: number;
  headers: Record<string, string>;
  rawBody: string | undefined;
  body: any;
}

interface RouteCtx {
  route: RouteDoc;
  routeKey: string;
  handler: HttpLambdaHandler;
  /** Authorization for this route's kind of auth. */
  authHeader: string | undefined;
  /** Real path parameters for this route. */
  params: Record<string, string>;
}

const concretePath = (template: string, params: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => safeEncode(params[k] ?? ''));

async function send(ctx: RouteCtx, c: Case): Promise<Outcome> {
  const params = { ...ctx.params, ...c.pathParameters };
  let body: string | undefined;
  if (c.raw !== undefined) body = c.raw;
  else if (c.body !== undefined) body = JSON.stringify(c.body);
  const event = buildHttpEvent({
    method: ctx.route.method.toUpperCase(),
    path: concretePath(ctx.route.path, params),
    routeKey: ctx.routeKey,
    pathParameters: Object.keys(params).length > 0 ? params : undefined,
  });
  if (ctx.authHeader !== undefined) event.headers.authorization = ctx.authHeader;
  if (body !== undefined) {
    event.body = body;
    event.headers['content-type'] = 'application/json';
    event.headers['content-length'] = String(Buffer.byteLength(body));
  }
  if (c.isBase64Encoded) event.isBase64Encoded = true;
  for (const [k, v] of Object.entries(c.headers ?? {})) {
    if (v === undefined) delete event.headers[k.toLowerCase()];
    else event.headers[k.toLowerCase()] = v;
  }
  if (c.query) {
    // Set directly: values may hold what a URL cannot (lone surrogates), as a gateway could pass on.
    event.queryStringParameters = c.query;
    event.rawQueryString = Object.entries(c.query)
      .map(([k, v]) => `${k}=${safeEncode(v)}`)
      .join('&');
  }
  const context: Context = buildContext(`agenda-corpus-${ctx.route.method}`);
  const raw = (await ctx.handler(event, context)) as { statusCode?: number; headers?: Record<string, unknown>; body?: string };
  if (!raw || typeof raw !== 'object' || typeof raw.statusCode !== 'number') {
    return { status: 200, headers: {}, rawBody: JSON.stringify(raw), body: raw };
  }
  const headers = Object.fromEntries(Object.entries(raw.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  let parsed: unknown;
  try {
    parsed = raw.body ? JSON.parse(raw.body) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: raw.statusCode, headers, rawBody: raw.body, body: parsed };
}

function safeEncode(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return 'x';
  }
}

const show = (v: unknown, max = 160): string => {
  let s: string;
  try {
    s = typeof v === 'string' ? v : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  s = s.replace(/\u0000/g, '\\u0000').replace(/[\ud800-\udfff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16)}`);
  return s.length > max ? `${s.slice(0, max)}... (${s.length} chars)` : s;
};

/** What is wrong with an outcome, or undefined when it keeps the rules. */
function judge(c: Case, o: Outcome): string | undefined {
  if (o.status >= 500) return `answered ${o.status}: ${show(o.rawBody, 400)}`;
  const expected = c.status === undefined ? undefined : Array.isArray(c.status) ? c.status : [c.status];
  if (expected && !expected.includes(o.status)) return `expected ${expected.join(' or ')}, got ${o.status}: ${show(o.rawBody, 300)}`;
  if (o.status >= 400) {
    if (!/json/i.test(o.headers['content-type'] ?? '')) return `${o.status} without a JSON content type`;
    const e = o.body?.error;
    if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || e.message === '') {
      return `${o.status} without {error:{code,message}}: ${show(o.rawBody)}`;
    }
    if (o.status === 400 && c.field) {
      const details = Array.isArray(e.details) ? (e.details as { field?: unknown; problem?: unknown }[]) : [];
      const named = details.some(
        (d) =>
          typeof d.field === 'string' &&
          (d.field === c.field || d.field.startsWith(`${c.field}.`) || (typeof d.problem === 'string' && d.problem.includes(`"${c.field}"`))),
      );
      if (!named) return `400 does not name field "${c.field}": ${show(e.details, 300)}`;
    }
  }
  return undefined;
}

async function runCases(ctx: RouteCtx, cases: Case[]): Promise<string[]> {
  const violations: string[] = [];
  for (const c of cases) {
    let o: Outcome;
    try {
      o = await send(ctx, c);
    } catch (err) {
      violations.push(`${ctx.routeKey} [${c.name}] threw: ${(err as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
      continue;
    }
    const problem = judge(c, o);
    if (problem) {
      const input = c.raw !== undefined ? c.raw : c.body !== undefined ? c.body : c.query ?? c.pathParameters ?? c.headers;
      violations.push(`${ctx.routeKey} [${c.name}] input=${show(input)} -> ${problem}`);
    }
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

const HUGE = 'x'.repeat(10_000);
const NUL = 'a\u0000b';
const LONE = 'a\ud800b';

/** Values of the wrong type or out of any sane range; some may happen to be valid for a field. */
const WRONG_VALUES: [string, unknown][] = [
  ['null', null],
  ['true', true],
  ['zero', 0],
  ['negative', -1],
  ['fraction', 1.5],
  ['huge number', 1e308],
  ['string', 'str'],
  ['empty string', ''],
  ['blank string', '   '],
  ['array', []],
  ['object', {}],
  ['huge string', HUGE],
  ['NUL byte', NUL],
  ['lone surrogate', LONE],
];

/** Cases every route with auth gets: no credentials, wrong scheme, garbage, a well-formed unknown key. */
function authCases(): Case[] {
  const unknownKey = `agk_${'a'.repeat(12)}_${'B'.repeat(40)}`;
  return [
    { name: 'no Authorization', headers: { authorization: undefined }, status: 401 },
    { name: 'empty Authorization', headers: { authorization: '' }, status: 401 },
    { name: 'Bearer without token', headers: { authorization: 'Bearer ' }, status: 401 },
    { name: 'Basic scheme', headers: { authorization: 'Basic dXNlcjpwYXNz' }, status: 401 },
    { name: 'garbage token', headers: { authorization: 'Bearer garbage' }, status: 401 },
    { name: 'unknown well-formed key', headers: { authorization: `Bearer ${unknownKey}` }, status: 401 },
    { name: 'NUL in token', headers: { authorization: `Bearer agk_${NUL}` }, status: 401 },
    { name: 'lone surrogate in token', headers: { authorization: `Bearer ${LONE}` }, status: 401 },
    { name: 'huge token', headers: { authorization: `Bearer ${'k'.repeat(16 * KIB)}` }, status: 401 },
  ];
}

/** Bad values for every path parameter of the route. */
function pathCases(route: RouteDoc, body?: unknown, query?: Record<string, string>): Case[] {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const out: Case[] = [];
  for (const p of names) {
    for (const [label, v] of [
      ['non-UUID', 'not-a-uuid'],
      ['empty', ''],
      ['number', '123'],
      ['SQL-ish', "1' OR '1'='1"],
      ['UUID with braces', `{${randomUUID()}}`],
      ['UUID too long', `${randomUUID()}0`],
      ['NUL', `${randomUUID().slice(0, 35)}\u0000`],
      ['lone surrogate', `${randomUUID().slice(0, 35)}\ud800`],
      ['huge', HUGE],
    ] as const) {
      out.push({ name: `${p} ${label}`, pathParameters: { [p]: v }, body, query, status: 400, field: p });
    }
    out.push({ name: `${p} unknown UUID`, pathParameters: { [p]: randomUUID() }, body, query, status: 404 });
  }
  return out;
}

/** Malformed, mistyped, unsafe or oversize bodies; `base` is a valid body for the route. */
function bodyCases(base: unknown, idempotent: boolean): Case[] {
  const expectsArray = Array.isArray(base);
  const out: Case[] = [
    { name: 'malformed JSON: open brace', raw: '{', status: 400, field: 'body' },
    { name: 'malformed JSON: truncated', raw: '{"a":', status: 400, field: 'body' },
    { name: 'malformed JSON: single quotes', raw: "{'a':1}", status: 400, field: 'body' },
    { name: 'malformed JSON: trailing comma', raw: '{"a":1,}', status: 400, field: 'body' },
    { name: 'malformed JSON: bare word', raw: 'nul', status: 400, field: 'body' },
    { name: 'malformed JSON: two documents', raw: '{}{}', status: 400, field: 'body' },
    { name: 'JSON number', raw: '42', status: 400, field: 'body' },
    { name: 'JSON string', raw: '"hello"', status: 400, field: 'body' },
    { name: 'JSON null', raw: 'null', status: 400, field: 'body' },
    { name: 'JSON boolean', raw: 'true', status: 400, field: 'body' },
    expectsArray
      ? { name: 'JSON object where an array is expected', raw: '{}', status: 400, field: 'body' }
      : { name: 'JSON array where an object is expected', raw: '[]', status: 400, field: 'body' },
    { name: 'NUL in an unknown key', raw: '{"a\\u0000":1}', status: 400 },
    { name: 'lone surrogate escape in a value', raw: expectsArray ? '["\\ud800"]' : '{"x":"\\ud800"}', status: 400 },
    { name: 'lone low surrogate escape', raw: expectsArray ? '["\\udc00"]' : '{"x":"\\udc00"}', status: 400 },
    { name: 'nested 200 deep', raw: `${'['.repeat(200)}${']'.repeat(200)}`, status: 400 },
    { name: 'nested 100000 deep', raw: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, status: [400, 413] },
    { name: 'oversize body (> 64 KiB)', raw: JSON.stringify(expectsArray ? ['x'.repeat(70 * KIB)] : { x: 'x'.repeat(70 * KIB) }), status: 413 },
    { name: 'oversize in multibyte (> 64 KiB in UTF-8)', raw: JSON.stringify(expectsArray ? ['é'.repeat(40 * KIB)] : { x: 'é'.repeat(40 * KIB) }), status: 413 },
    { name: 'oversize base64 body', raw: Buffer.from('x'.repeat(70 * KIB)).toString('base64'), isBase64Encoded: true, status: 413 },
    { name: 'base64 body, invalid UTF-8', raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'), isBase64Encoded: true, status: 400 },
    { name: 'text/plain content type', raw: JSON.stringify(base), headers: { 'content-type': 'text/plain' }, status: 415 },
    { name: 'form content type', raw: 'a=1&b=2', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
    { name: 'garbage content type', raw: JSON.stringify(base), headers: { 'content-type': '\u0000;;;' }, status: 415 },
  ];
  if (idempotent) {
    out.push(
      { name: 'Idempotency-Key empty', body: base, headers: { 'idempotency-key': '' }, status: [400], field: 'Idempotency-Key' },
      { name: 'Idempotency-Key too long', body: base, headers: { 'idempotency-key': 'k'.repeat(256) }, status: [400], field: 'Idempotency-Key' },
      { name: 'Idempotency-Key non-ASCII', body: base, headers: { 'idempotency-key': 'chave-é' }, status: [400], field: 'Idempotency-Key' },
      { name: 'Idempotency-Key control char', body: base, headers: { 'idempotency-key': 'a\u0000b' }, status: [400], field: 'Idempotency-Key' },
    );
  }
  if (!expectsArray) {
    out.push({ name: 'extra unknown field', body: { ...(base as object), unknownField: 1 }, status: 400, field: 'unknownField' });
    out.push({ name: 'prototype key', raw: JSON.stringify(base).replace(/^\{/, '{"__proto__":{"admin":true},'), status: 400 });
  }
  return out;
}

/** Each field of an object body (or of the first item of an array body) replaced by each wrong value. */
function fieldCases(base: unknown): Case[] {
  const out: Case[] = [];
  const target = Array.isArray(base) ? (base[0] as Record<string, unknown>) : (base as Record<string, unknown>);
  for (const field of Object.keys(target)) {
    for (const [label, v] of WRONG_VALUES) {
      const replaced = { ...target, [field]: v };
      const body = Array.isArray(base) ? [replaced, ...base.slice(1)] : replaced;
      out.push({ name: `${field} = ${label}`, body, field: Array.isArray(base) ? `0.${field}` : field });
    }
    const without = { ...target };
    delete without[field];
    out.push({ name: `${field} missing`, body: Array.isArray(base) ? [without] : without });
  }
  return out;
}

/** Garbage for each query parameter the route documents, and one it does not. */
function queryCases(route: RouteDoc): Case[] {
  const schema = route.query as unknown as { shape?: Record<string, unknown> } | undefined;
  const keys = Object.keys(schema?.shape ?? {});
  const out: Case[] = [];
  for (const k of keys) {
    for (const [label, v] of [
      ['garbage', 'garbage'],
      ['empty', ''],
      ['negative', '-1'],
      ['zero', '0'],
      ['huge number', '1e309'],
      ['hex', '0x10'],
      ['huge', HUGE],
      ['NUL', NUL],
      ['lone surrogate', LONE],
      ['array-ish', '[1,2]'],
    ] as const) {
      out.push({ name: `${k}=${label}`, query: { [k]: v }, field: k });
    }
  }
  if (keys.length > 0) {
    out.push({ name: 'limit=-1', query: { limit: '-1' }, ...(keys.includes('limit') ? { status: 400, field: 'limit' } : {}) });
    out.push({ name: 'limit=101', query: { limit: '101' }, ...(keys.includes('limit') ? { status: 400, field: 'limit' } : {}) });
    out.push({ name: 'cursor=garbage', query: { cursor: 'garbage' }, ...(keys.includes('cursor') ? { status: 400, field: 'cursor' } : {}) });
    out.push({ name: 'unknown parameter', query: { bogus: '1' } });
  }
  return out;
}

/** Cursors that decode but point at nothing a database can compare, in both encodings lists have used. */
function cursorCases(kind: 'pipe' | 'json'): Case[] {
  const enc = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
  const uuid = randomUUID();
  const values =
    kind === 'pipe'
      ? [
          ['hyphens for an id', enc(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`)],
          ['year -271821', enc(`-271821-04-20T00:00:00.000Z|${uuid}`)],
          ['year 275760', enc(`+275760-09-13T00:00:00.000Z|${uuid}`)],
          ['year 0', enc(`0000-01-01T00:00:00.000Z|${uuid}`)],
          ['NUL in id', enc(`2026-01-01T00:00:00.000Z|${uuid.slice(0, 35)}\u0000`)],
          ['only a pipe', enc('|')],
        ]
      : [
          ['year -271821', enc(JSON.stringify(['-271821-04-20T00:00:00.000Z', uuid]))],
          ['year 275760', enc(JSON.stringify(['+275760-09-13T00:00:00.000Z', uuid]))],
          ['year 0', enc(JSON.stringify(['0000-01-01T00:00:00.000Z', uuid]))],
          ['three items', enc(JSON.stringify(['2026-01-01T00:00:00.000Z', uuid, 1]))],
          ['object', enc(JSON.stringify({ a: 1 }))],
        ];
  return values.map(([label, v]) => ({ name: `cursor ${label}`, query: { cursor: v! }, status: [200, 400], field: 'cursor' }));
}

/** Dates no calendar has, in a field that takes a date-time with an offset. */
function dateTimeCases(base: Record<string, unknown>, field: string): Case[] {
  return [
    ['Feb 30', '2026-02-30T10:00:00-03:00'],
    ['month 13', '2026-13-01T10:00:00Z'],
    ['24:61', '2026-03-02T24:61:00-03:00'],
    ['hour 25', '2026-03-02T25:00:00Z'],
    ['no offset', '2026-03-02T10:00:00'],
    ['offset +99:99', '2030-03-05T10:00:00+99:99'],
    ['offset +24:00', '2030-03-05T10:00:00+24:00'],
    ['date only', '2026-03-02'],
    ['epoch number as string', '1767225600000'],
    ['words', 'tomorrow at ten'],
    ['leap second', '2026-06-30T23:59:60Z'],
  ]
    .map(([label, v]): Case => ({ name: `${field} ${label}`, body: { ...base, [field]: v }, field, status: 400 }))
    .concat(
      // Well-formed, so maybe accepted by the schema; a later rule may refuse them. Never a 5xx.
      [
        ['year 0', '0000-01-01T00:00:00Z'],
        ['year 1 at +14:00 (1 BC in UTC)', '0001-01-01T00:00:00+14:00'],
        ['year 9999 late offset (year 10000 in UTC)', '9999-12-31T23:59:59-14:00'],
      ].map(([label, v]) => ({ name: `${field} ${label}`, body: { ...base, [field]: v } })),
    );
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

const WEBHOOK_URL = 'http://127.0.0.1:9/agenda-hook';

interface World {
  auth: string;
  admin: string;
  clinicId: string;
  proId: string;
  patientId: string;
  apptId: string;
  controlId: string;
  sparePatientId: string;
  timeOffId: string;
  spareKeyId: string;
  canaryId: string;
  webhookId: string;
  nyAuth: string;
  nyProId: string;
}

let world: World;
let routes: { route: RouteDoc; routeKey: string; handler: HttpLambdaHandler }[];
const unmapped: string[] = [];

beforeAll(async () => {
  const paths = handlerPaths();
  routes = [];
  for (const route of ALL_ROUTES) {
    const routeKey = `${route.method.toUpperCase()} ${route.path}`;
    const hp = paths.get(routeKey);
    if (!hp) {
      unmapped.push(routeKey);
      continue;
    }
    routes.push({ route, routeKey, handler: loadHandler(hp) });
  }

  const c = await newClinic();
  const pro = await newProfessional(c.clinicId);
  const patient = await newPatient(c.clinicId);
  const sparePatient = await newPatient(c.clinicId);
  const auth = c.auth.headers.authorization;
  const ctl = await invoke(controls.create, { method: 'POST', path: '/v1/controls', headers: c.auth.headers, body: { patientId: patient.id, sessionsTotal: 5, validUntil: localAt(30, 12).slice(0, 10) } });
  expect(ctl.status).toBe(201);
  const appt = await invoke(appts.create, { method: 'POST', path: '/v1/appointments', headers: c.auth.headers, body: { professionalId: pro.id, patientId: patient.id, startsAt: localAt(3, 10), controlId: ctl.body.id } });
  expect(appt.status).toBe(201);
  const off = await invoke(pros.createTimeOff, {
    method: 'POST',
    path: `/v1/professionals/${pro.id}/time-off`,
    pathParameters: { id: pro.id },
    headers: c.auth.headers,
    body: { startsAt: localAt(20, 8), endsAt: localAt(20, 12), reason: 'congress' },
  });
  expect(off.status).toBe(201);
  const spare = await invoke(keys.create, { method: 'POST', path: '/v1/api-keys', headers: c.auth.headers, body: { name: 'spare' } });
  expect(spare.status).toBe(201);
  const admin = `Bearer ${ADMIN_SECRET}`;
  const canary = await invoke(adminFns.createCanary, { method: 'POST', path: '/admin/canaries', headers: { authorization: admin }, body: { queue: 'agenda' } });
  expect(canary.status).toBe(202);
  const hook = await invoke(webhooks.create, { method: 'POST', path: '/v1/webhooks', headers: c.auth.headers, body: { url: WEBHOOK_URL, eventTypes: ['*'] } });
  expect(hook.status).toBe(201);

  // A clinic in a zone with DST, for local times inside the spring-forward gap.
  const ny = await newClinic('America/New_York');
  const nyPro = await newProfessional(ny.clinicId);

  world = {
    auth,
    admin,
    clinicId: c.clinicId,
    proId: pro.id,
    patientId: patient.id,
    sparePatientId: sparePatient.id,
    apptId: appt.body.id,
    controlId: ctl.body.id,
    timeOffId: off.body.id,
    spareKeyId: spare.body.id,
    canaryId: canary.body.id,
    webhookId: hook.body.id,
    nyAuth: ny.auth.headers.authorization,
    nyProId: nyPro.id,
  };
});

/** Real path parameters for a route. */
function paramsFor(routePath: string): Record<string, string> {
  if (routePath.startsWith('/admin/canaries/')) return { id: world.canaryId };
  if (routePath.startsWith('/v1/api-keys/')) return { id: world.spareKeyId };
  if (routePath.startsWith('/v1/professionals/{id}/time-off/')) return { id: world.proId, timeOffId: world.timeOffId };
  if (routePath.startsWith('/v1/professionals/')) return { id: world.proId };
  // Anonymising or blocking the world's patient would refuse the bookings later routes make.
  if (/^\/v1\/patients\/\{id\}\/(anonymize|block|unblock)$/.test(routePath)) return { id: world.sparePatientId };
  if (routePath.startsWith('/v1/patients/')) return { id: world.patientId };
  if (routePath.startsWith('/v1/appointments/')) return { id: world.apptId };
  if (routePath.startsWith('/v1/controls/')) return { id: world.controlId };
  // No delivery exists for the corpus's endpoint: a well-formed unknown delivery id (404 when reached).
  if (routePath.startsWith('/v1/webhooks/{id}/deliveries/{deliveryId}')) return { id: world.webhookId, deliveryId: randomUUID() };
  if (routePath.startsWith('/v1/webhooks/')) return { id: world.webhookId };
  return {};
}

/** A valid body per route, so that each case changes one thing. */
function validBody(routeKey: string): unknown {
  switch (routeKey) {
    case 'POST /admin/canaries':
      return { queue: 'agenda', workMs: 0 };
    case 'POST /admin/clinics':
      return { name: 'Corpus clinic', timeZone: 'America/Sao_Paulo', reminderOffsetsMinutes: [60] };
    case 'POST /v1/api-keys':
      return { name: 'corpus key' };
    case 'PATCH /v1/clinic':
      return { name: 'Corpus clinic', reminderOffsetsMinutes: [1440, 120], autoNoShowAfterMinutes: 30, retention: { notificationsDays: 400 } };
    case 'POST /v1/professionals':
    case 'PATCH /v1/professionals/{id}':
      return { name: 'Dr. Corpus', specialty: 'cardiology', defaultDurationMinutes: 30, bufferBeforeMinutes: 0, bufferAfterMinutes: 0, slotStepMinutes: 15, active: true };
    case 'PUT /v1/professionals/{id}/working-hours':
      return [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '08:00', end: '20:00' }));
    case 'POST /v1/professionals/{id}/time-off':
      return { startsAt: localAt(40, 8), endsAt: localAt(40, 9), reason: 'x' };
    case 'POST /v1/patients':
    case 'PATCH /v1/patients/{id}':
      return { name: 'Paciente Corpus', email: 'c@example.com', phone: '+5511912345678', birthDate: '1990-05-01', locale: 'pt-BR', notifyEmail: true, notifyInApp: false };
    case 'POST /v1/patients/{id}/consents':
      return { channel: 'whatsapp', status: 'granted', basis: 'consent', source: 'patient' };
    case 'POST /v1/appointments':
      return { professionalId: world.proId, patientId: world.patientId, startsAt: localAt(6, 9), durationMinutes: 30, controlId: world.controlId, notes: 'n' };
    case 'POST /v1/appointments/{id}/reschedule':
      return { startsAt: localAt(6, 15), durationMinutes: 30 };
    case 'POST /v1/appointments/{id}/cancel':
      return { reason: 'r' };
    case 'POST /v1/appointments/{id}/confirm':
    case 'POST /v1/appointments/{id}/complete':
    case 'POST /v1/appointments/{id}/no-show':
      return {};
    case 'POST /v1/webhooks':
    case 'PATCH /v1/webhooks/{id}':
      return { url: WEBHOOK_URL, eventTypes: ['appointment.created'] };
    case 'POST /v1/webhooks/{id}/replay':
      return { since: '2199-01-01T00:00:00Z' }; // valid, and no event to re-send

    case 'POST /v1/controls':
      return { patientId: world.patientId, professionalId: world.proId, specialty: 'cardiology', sessionsTotal: 3, validUntil: localAt(30, 12).slice(0, 10), renewalPolicy: 'manual' };
    default:
      return undefined;
  }
}

/** Route-specific inputs: impossible dates, ranges, zones, numbers out of bounds. */
function specificCases(routeKey: string, base: any): Case[] {
  const b = (o: Record<string, unknown>, field: string, name: string, status: number | number[] = 400): Case => ({ name, body: { ...base, ...o }, field, status });
  switch (routeKey) {
    case 'POST /admin/clinics':
      return [
        b({ timeZone: 'Mars/Olympus_Mons' }, 'timeZone', 'unknown time zone'),
        b({ timeZone: 'UTC+3' }, 'timeZone', 'offset as a zone'),
        b({ timeZone: '' }, 'timeZone', 'empty zone'),
        b({ timeZone: '../../etc/passwd' }, 'timeZone', 'path as a zone'),
        b({ timeZone: 'America/Sao_Paulo'.repeat(10) }, 'timeZone', 'long zone'),
        b({ reminderOffsetsMinutes: [0] }, 'reminderOffsetsMinutes', 'offset 0'),
        b({ reminderOffsetsMinutes: [-5] }, 'reminderOffsetsMinutes', 'negative offset'),
        b({ reminderOffsetsMinutes: [1e9] }, 'reminderOffsetsMinutes', 'huge offset'),
        b({ reminderOffsetsMinutes: [5, 10, 15, 20, 25, 30] }, 'reminderOffsetsMinutes', 'six offsets'),
        b({ reminderOffsetsMinutes: ['60'] }, 'reminderOffsetsMinutes', 'offset as string'),
      ];
    case 'PATCH /v1/clinic':
      return [
        b({ retention: { outboxEventsDays: 0 } }, 'retention.outboxEventsDays', 'retention below its minimum'),
        b({ retention: { auditEventsDays: 30 } }, 'retention.auditEventsDays', 'audit kept under 6 months'),
        b({ retention: { notificationsDays: 3_651 } }, 'retention.notificationsDays', 'retention above its maximum'),
        b({ retention: { notificationsDays: 1.5 } }, 'retention.notificationsDays', 'fractional days'),
        b({ retention: { notificationsDays: '30' } }, 'retention.notificationsDays', 'days as a string'),
        b({ retention: { forever: 1 } }, 'retention', 'unknown retention key'),
        b({ retention: {} }, 'retention', 'empty retention'),
      ];
    case 'POST /admin/canaries':
      return [
        b({ queue: 'nope' }, 'queue', 'unknown queue'),
        b({ workMs: 60_001 }, 'workMs', 'too much work'),
        b({ workMs: -1 }, 'workMs', 'negative work'),
      ];
    case 'POST /v1/patients/{id}/consents':
      return [
        b({ basis: 'legitimate_interest' }, 'basis', 'legitimate interest for health data', 422),
        b({ basis: undefined }, 'basis', 'a grant without a basis'),
        b({ channel: 'sms' }, 'channel', 'unknown channel'),
        b({ status: 'maybe' }, 'status', 'unknown status'),
      ];
    case 'POST /v1/professionals':
    case 'PATCH /v1/professionals/{id}':
      return [
        b({ defaultDurationMinutes: 4 }, 'defaultDurationMinutes', 'duration 4'),
        b({ defaultDurationMinutes: 481 }, 'defaultDurationMinutes', 'duration 481'),
        b({ bufferBeforeMinutes: 241 }, 'bufferBeforeMinutes', 'buffer 241'),
        b({ slotStepMinutes: 0 }, 'slotStepMinutes', 'step 0'),
        b({ name: '   ' }, 'name', 'blank name'),
        ...(routeKey.startsWith('PATCH') ? [{ name: 'empty patch', body: {}, status: 400 }] : []),
      ];
    case 'PUT /v1/professionals/{id}/working-hours': {
      const item = (o: Record<string, unknown>) => [{ weekday: 1, start: '08:00', end: '12:00', ...o }];
      const h = (o: Record<string, unknown>, field: string, name: string): Case => ({ name, body: item(o), field, status: 400 });
      return [
        h({ start: '24:61' }, '0.start', 'start 24:61'),
        h({ end: '24:61' }, '0.end', 'end 24:61'),
        h({ end: '25:00' }, '0.end', 'end 25:00'),
        h({ start: '8:00' }, '0.start', 'start without leading zero'),
        h({ start: '08:00:00' }, '0.start', 'start with seconds'),
        h({ start: '24:00', end: '24:00' }, '0.start', 'start 24:00'),
        h({ start: '12:00', end: '08:00' }, '0.end', 'end before start'),
        h({ start: '08:00', end: '08:00' }, '0.end', 'empty interval'),
        h({ weekday: 7 }, '0.weekday', 'weekday 7'),
        h({ weekday: -1 }, '0.weekday', 'weekday -1'),
        h({ weekday: '1' }, '0.weekday', 'weekday as string'),
        { name: 'overlapping intervals', body: [{ weekday: 1, start: '08:00', end: '12:00' }, { weekday: 1, start: '11:00', end: '13:00' }], field: '1', status: 400 },
        { name: '169 intervals', body: Array.from({ length: 169 }, (_, i) => ({ weekday: i % 7, start: '00:00', end: '00:05' })), status: 400 },
        { name: 'null items', body: [null, 1, 'x'], field: '0', status: 400 },
      ];
    }
    case 'POST /v1/professionals/{id}/time-off':
      return [
        ...dateTimeCases(base, 'startsAt'),
        ...dateTimeCases(base, 'endsAt'),
        b({ endsAt: base.startsAt }, 'endsAt', 'end equals start'),
        b({ startsAt: localAt(41, 9), endsAt: localAt(41, 8) }, 'endsAt', 'end before start'),
        b({ startsAt: localAt(1, 9), endsAt: localAt(400, 9) }, 'endsAt', 'range too long (399 days)'),
        { name: 'time off in year 0', body: { startsAt: '0000-01-01T00:00:00Z', endsAt: '0000-01-02T00:00:00Z' }, status: [201, 400, 422] },
        { name: 'time off before the common era', body: { startsAt: '0001-01-01T00:00:00+14:00', endsAt: '0001-01-02T00:00:00Z' }, status: [201, 400, 422] },
      ];
    case 'POST /v1/patients':
    case 'PATCH /v1/patients/{id}':
      return [
        b({ birthDate: '2026-02-30' }, 'birthDate', 'birthDate Feb 30'),
        b({ birthDate: '1990-13-01' }, 'birthDate', 'birthDate month 13'),
        b({ birthDate: '1899-12-31' }, 'birthDate', 'birthDate before 1900'),
        b({ birthDate: '2999-01-01' }, 'birthDate', 'birthDate in the future'),
        b({ birthDate: '1990-05-01T00:00:00Z' }, 'birthDate', 'birthDate with time'),
        b({ email: 'not an email' }, 'email', 'bad e-mail'),
        b({ email: `${'a'.repeat(250)}@example.com` }, 'email', 'long e-mail'),
        b({ phone: 'call me' }, 'phone', 'bad phone'),
        b({ phone: '+1' }, 'phone', 'short phone'),
        b({ locale: 'fr' }, 'locale', 'unknown locale'),
        ...(routeKey.startsWith('PATCH') ? [{ name: 'empty patch', body: {}, status: 400 }] : []),
      ];
    case 'POST /v1/appointments':
      return [
        ...dateTimeCases(base, 'startsAt'),
        b({ durationMinutes: 4 }, 'durationMinutes', 'duration 4'),
        b({ durationMinutes: 721 }, 'durationMinutes', 'duration 721'),
        b({ professionalId: randomUUID() }, 'professionalId', 'unknown professional', 404),
        b({ patientId: randomUUID() }, 'patientId', 'unknown patient', 404),
        b({ controlId: randomUUID() }, 'controlId', 'unknown control', [404, 422]),
        b({ startsAt: localAt(-2, 10) }, 'startsAt', 'in the past', 422),
        b({ startsAt: localAt(6, 3) }, 'startsAt', 'outside working hours', 422),
        b({ notes: 'n'.repeat(2001) }, 'notes', 'notes too long'),
      ];
    case 'POST /v1/appointments/{id}/reschedule':
      return [
        ...dateTimeCases(base, 'startsAt'),
        b({ durationMinutes: 0 }, 'durationMinutes', 'duration 0'),
        b({ durationMinutes: 100000 }, 'durationMinutes', 'duration huge'),
      ];
    case 'POST /v1/appointments/{id}/cancel':
      return [b({ reason: 'r'.repeat(501) }, 'reason', 'reason too long'), b({ reason: '' }, 'reason', 'empty reason')];
    case 'POST /v1/controls':
      return [
        b({ validUntil: '2026-02-30' }, 'validUntil', 'validUntil Feb 30'),
        b({ validUntil: '2026-13-01' }, 'validUntil', 'validUntil month 13'),
        b({ validUntil: '2020-01-01' }, 'validUntil', 'validUntil in the past'),
        b({ validUntil: '0000-01-01' }, 'validUntil', 'validUntil year 0'),
        b({ validUntil: '2030-01-01T24:61:00Z' }, 'validUntil', 'validUntil 24:61'),
        b({ validUntil: '2030-01-01T10:00:00' }, 'validUntil', 'validUntil without offset'),
        b({ sessionsTotal: 0 }, 'sessionsTotal', 'zero sessions'),
        b({ sessionsTotal: -3 }, 'sessionsTotal', 'negative sessions'),
        b({ sessionsTotal: 201 }, 'sessionsTotal', '201 sessions'),
        b({ sessionsTotal: 2 ** 53 }, 'sessionsTotal', '2^53 sessions'),
        b({ renewalPolicy: 'sometimes' }, 'renewalPolicy', 'unknown renewal policy'),
        b({ patientId: randomUUID() }, 'patientId', 'unknown patient', 404),
        b({ professionalId: randomUUID() }, 'professionalId', 'unknown professional', 404),
      ];
    default:
      return [];
  }
}

/** Route-specific query strings. */
function specificQueryCases(routeKey: string): Case[] {
  const q = (query: Record<string, string>, name: string, field?: string, status: number | number[] = 400): Case => ({ name, query, field, status });
  switch (routeKey) {
    case 'GET /v1/professionals/{id}/slots': {
      const day = localAt(5, 0).slice(0, 10);
      const next = localAt(6, 0).slice(0, 10);
      return [
        q({}, 'no from or to', 'from'),
        q({ from: day }, 'no to', 'to'),
        q({ from: '2026-02-30', to: next }, 'from Feb 30', 'from'),
        q({ from: '2026-13-01', to: next }, 'from month 13', 'from'),
        q({ from: `${day}T24:61`, to: next }, 'from 24:61', 'from'),
        q({ from: next, to: day }, 'to before from', 'to'),
        q({ from: day, to: day }, 'empty range', 'to'),
        q({ from: day, to: localAt(70, 0).slice(0, 10) }, 'range of 65 days', 'to'),
        q({ from: '0001-01-01', to: '9999-12-31' }, 'range of ten millennia', 'to'),
        q({ from: '0000-01-01', to: '0000-01-02' }, 'year 0', undefined, [200, 400]),
        q({ from: '-001000-01-01', to: '-001000-01-02' }, 'negative year', 'from'),
        q({ from: '9999-12-31', to: '9999-12-31T23:59' }, 'year 9999', undefined, [200, 400]),
        q({ from: day, to: next, duration: '0' }, 'duration 0', 'duration'),
        q({ from: day, to: next, duration: '-5' }, 'duration -5', 'duration'),
        q({ from: day, to: next, duration: '721' }, 'duration 721', 'duration'),
        q({ from: day, to: next, duration: '1.5' }, 'duration 1.5', 'duration'),
        q({ from: day, to: next, duration: '99999999999' }, 'duration huge', 'duration'),
        q({ from: `${day}T10:00:00+99:99`, to: next }, 'offset +99:99', 'from'),
        q({ from: `${day}T10:00:00+2400`, to: next }, 'offset +2400', 'from'),
      ];
    }
    case 'GET /v1/appointments':
      return [
        q({ from: '2026-02-30T00:00:00Z' }, 'from Feb 30', 'from'),
        q({ from: '2026-13-01T00:00:00Z' }, 'from month 13', 'from'),
        q({ to: '2026-03-02T24:61:00Z' }, 'to 24:61', 'to'),
        q({ from: '2026-03-02' }, 'from without time', 'from'),
        q({ from: '2026-03-03T00:00:00Z', to: '2026-03-02T00:00:00Z' }, 'to before from', 'to'),
        q({ from: '0000-01-01T00:00:00Z' }, 'from year 0', undefined, [200, 400]),
        q({ to: '0000-01-01T00:00:00Z' }, 'to year 0', undefined, [200, 400]),
        q({ from: '9999-12-31T23:59:59-14:00' }, 'from past year 9999 in UTC', undefined, [200, 400]),
        q({ status: 'lost' }, 'unknown status', 'status'),
        q({ professionalId: 'nope' }, 'professionalId not a UUID', 'professionalId'),
        q({ patientId: 'nope' }, 'patientId not a UUID', 'patientId'),
        q({ professionalId: randomUUID() }, 'unknown professional', undefined, 200),
        ...cursorCases('pipe'),
        ...cursorCases('json'),
      ];
    case 'GET /v1/controls':
      return [q({ status: 'lost' }, 'unknown status', 'status'), q({ patientId: 'nope' }, 'patientId not a UUID', 'patientId'), ...cursorCases('pipe'), ...cursorCases('json')];
    case 'GET /v1/professionals':
      return [q({ active: 'yes' }, 'active=yes', 'active'), ...cursorCases('json')];
    case 'GET /v1/patients':
      return [q({ q: '%' }, 'q=% (a LIKE wildcard)', undefined, 200), q({ q: '\\' }, 'q=backslash', undefined, 200), q({ q: "' OR 1=1 --" }, 'q SQL-ish', undefined, 200), ...cursorCases('json')];
    default:
      return [];
  }
}

function casesFor(routeKey: string, route: RouteDoc): Case[] {
  const cases: Case[] = [];
  if (route.auth !== 'none') cases.push(...authCases());
  const hasBody = route.method === 'post' || route.method === 'put' || route.method === 'patch';
  const base = hasBody ? validBody(routeKey) : undefined;
  const slotsQuery = routeKey === 'GET /v1/professionals/{id}/slots' ? { from: localAt(5, 0).slice(0, 10), to: localAt(6, 0).slice(0, 10) } : undefined;
  cases.push(...pathCases(route, base, slotsQuery));
  if (hasBody) {
    if (base !== undefined) {
      cases.push(...bodyCases(base, route.idempotent === true));
      cases.push(...fieldCases(base));
      cases.push(...specificCases(routeKey, base));
    }
  } else {
    cases.push(...queryCases(route), ...specificQueryCases(routeKey));
  }
  // Requests with bodies on routes that take none: ignored or refused, never a 5xx. Not on DELETE,
  // where an ignored body would delete the fixture.
  if (route.method === 'get') {
    cases.push({ name: 'GET with a malformed body', raw: '{', headers: { 'content-type': 'text/plain' } });
  }
  return cases;
}

let totalSent = 0;

describe('bad-input corpus: no 5xx, JSON errors naming the field', () => {
  it('maps every documented route to its handler through serverless.yml', () => {
    expect(unmapped).toEqual([]);
    expect(routes).toHaveLength(ALL_ROUTES.length);
  });

  describe.each(ALL_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`))('%s', (routeKey) => {
    it('answers every bad input with a 4xx (or a harmless 2xx), never a 5xx', async () => {
      const entry = routes.find((r) => r.routeKey === routeKey);
      expect(entry).toBeDefined();
      const { route, handler } = entry!;
      const authHeader = route.auth === 'admin' ? world.admin : route.auth === 'apiKey' ? world.auth : undefined;
      const ctx: RouteCtx = { route, routeKey, handler, authHeader, params: paramsFor(route.path) };
      const cases = casesFor(routeKey, route);
      if (routeKey === 'GET /v1/professionals/{id}/slots') {
        // The spring-forward gap of America/New_York: 02:00-03:00 local does not exist on 2026-03-08.
        const ny: RouteCtx = { ...ctx, authHeader: world.nyAuth, params: { id: world.nyProId } };
        const gap = await runCases(ny, [
          { name: 'from inside the DST gap', query: { from: '2026-03-08T02:30', to: '2026-03-09' }, status: 400, field: 'from' },
          { name: 'to inside the DST gap', query: { from: '2026-03-07', to: '2026-03-08T02:00:00' }, status: 400, field: 'to' },
        ]);
        totalSent += 2;
        const violations = [...gap, ...(await runCases(ctx, cases))];
        totalSent += cases.length;
        expect(violations).toEqual([]);
        return;
      }
      totalSent += cases.length;
      expect(await runCases(ctx, cases)).toEqual([]);
    });
  });

  it('sent a corpus worth the name', () => {
    expect(totalSent).toBeGreaterThan(2000);
  });
});
