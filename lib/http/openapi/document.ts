import { z } from 'zod';
import type { Scope } from '../../domain/tenancy/scopes';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One HTTP route, described with the same zod schemas that validate it. */
export interface RouteDoc {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  auth: 'apiKey' | 'admin' | 'none';
  /** The scope an API key needs (apiKey routes): the same the route's clinicRoute declares (a unit test checks). */
  scope?: Scope;
  body?: z.ZodType;
  query?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Accepts an Idempotency-Key header. */
  idempotent?: boolean;
}

const errorSchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'Stable, English, for machines' }),
    message: z.string().meta({ description: 'For people, in the negotiated language (pt-BR or en)' }),
    details: z.unknown().optional(),
  }),
});

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

function parameters(route: RouteDoc) {
  const path = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string', format: 'uuid' },
  }));
  const querySchema = route.query ? jsonSchema(route.query, 'input') : undefined;
  const required = new Set((querySchema?.required ?? []) as string[]);
  const query = Object.entries((querySchema?.properties ?? {}) as Record<string, Record<string, unknown>>).map(
    ([name, schema]) => ({ name, in: 'query', required: required.has(name), schema }),
  );
  const headers = route.idempotent
    ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }]
    : [];
  return [...path, ...query, ...headers];
}

/** Builds the OpenAPI 3.1 document from the route list. */
export function buildDocument(routes: RouteDoc[], info: { title: string; version: string; description: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } } }
        : { description: r.description };
    }
    for (const [status, description] of [
      ['400', 'Invalid input; details name each field and problem'],
      ...(route.auth !== 'none' ? [['401', 'Missing or invalid credentials']] : []),
      ...(route.scope ? [['403', `The API key lacks the ${route.scope} scope (code insufficient_scope, details.requiredScope)`]] : []),
      ['503', 'A dependency is unavailable; retry after Retry-After seconds'],
    ] as const) {
      responses[status] ??= { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      ...(route.scope && { description: `Requires an API key with the \`${route.scope}\` scope.`, 'x-required-scope': route.scope }),
      tags: [route.tag],
      operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/\/(\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      // For a bearer scheme, OpenAPI 3.1 lets the list name the roles the route requires: its scope.
      security: route.auth === 'none' ? [] : [{ [route.auth]: route.scope ? [route.scope] : [] }],
      parameters: parameters(route),
      ...(route.body && {
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } },
      }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, 'output') },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A clinic API key: `Authorization: Bearer agk_...`, holding scopes read, write and/or admin' },
        admin: { type: 'http', scheme: 'bearer', description: 'The operator secret (ADMIN_SECRET)' },
      },
    },
  };
}
