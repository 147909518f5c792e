import type { z } from 'zod';
import { parseJsonBody, type ParseJsonOptions } from '../body';
import { pathParams, queryParams } from '../params';
import type { HttpEvent, HttpMiddleware } from '../types';

/** The schemas a route validates its input with; what a route leaves out is never read. */
export interface InputSpec {
  path?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** How the body is read (`expect: 'any'` for a top-level array); see parseJsonBody. */
  json?: ParseJsonOptions;
}

type Parsed<S extends InputSpec, K extends 'path' | 'query' | 'body'> = S[K] extends z.ZodType ? z.infer<S[K]> : undefined;

/** What a route receives: the request, and its input validated by the spec. */
export interface RouteRequest<S extends InputSpec> {
  event: HttpEvent;
  path: Parsed<S, 'path'>;
  query: Parsed<S, 'query'>;
  body: Parsed<S, 'body'>;
}

/**
 * Validates the route's input before it runs: path parameters, then the query, then the JSON body
 * (size, content type, syntax, schema). That order decides which 400/413/415 a request with
 * several faults gets, and a body is never read for a route that takes none.
 */
export const parseInput = (spec: InputSpec): HttpMiddleware => ({
  before: ({ event, context }) => {
    const path = spec.path && pathParams(spec.path, event);
    const query = spec.query && queryParams(spec.query, event);
    const body = spec.body && parseJsonBody(event, spec.body, spec.json);
    context.input = { path, query, body };
  },
});
