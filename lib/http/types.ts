import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { AuthContext } from '../domain/tenancy/api-keys';
import type { Invocation } from '../platform/lambda/handler';
import type { HttpResult } from './response';

/** An HTTP API (payload format 2.0) request, as every HTTP function receives it. */
export type HttpEvent = APIGatewayProxyEventV2;

/** A route's path parameters, query and body once validated; what the spec did not ask for stays undefined. */
export interface RouteInput {
  path?: unknown;
  query?: unknown;
  body?: unknown;
}

/**
 * middy's context for one HTTP request: the Lambda context, plus what the middlewares found out,
 * handed on to the route. One object per request, so nothing leaks into the next invocation.
 */
export interface HttpContext extends Context {
  call: Invocation;
  /** Set by the clinic-auth middleware. */
  auth?: AuthContext;
  /** The key's `last_used_at` write, started by clinic-auth beside the route's work and awaited before the answer. */
  keyStamp?: Promise<void>;
  /** Set by the parse-input middleware. */
  input?: RouteInput;
}

/** Typed once, so that every middleware of every stack reads and writes the same context fields. */
export type HttpMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext>;
