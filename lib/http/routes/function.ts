import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { actingAs } from '../../platform/db/actor';
import { NotFoundError } from '../../platform/errors/app-error';
import { lambdaHandler, lambdaRouter, type Invocation, type RoutedHandler } from '../../platform/lambda/handler';
import { errorToResponse } from '../errors';
import type { InputSpec } from '../middlewares/parse-input';
import type { HttpResult } from '../response';
import type { HttpContext, HttpEvent, HttpMiddleware } from '../types';
import type { RouteAccess } from './access';

/** A route's own work, once the middlewares let the request through. */
export type Route<Req> = (req: Req, call: Invocation) => Promise<HttpResult>;

/** What a stack hands its request to: a middy instance, or the route itself. */
export type Stage = (event: HttpEvent, context: HttpContext) => Promise<HttpResult>;

/** The arguments of a route factory: the input spec may be left out by routes that read none. */
export type RouteArgs = [Route<never>] | [InputSpec, Route<never>];

/** Lets a factory be called with its route alone, as the routes that read no input are. */
export const specAndRoute = (args: RouteArgs): [InputSpec, Route<never>] => (args.length === 1 ? [{}, args[0]] : args);

/**
 * One middy instance of a stack. Its early timeout is off: the Lambda wrapper around the stack has
 * one already, and a second would answer a slow request with a mapped 500 instead.
 */
export const stage = (...middlewares: HttpMiddleware[]) =>
  middy<HttpEvent, HttpResult, Error, HttpContext>({ timeoutEarlyInMillis: 0 }).use(middlewares);

/** The innermost handler of a stack: the route, given what the middlewares put in the context. */
export const run =
  <Req>(route: Route<Req>): Stage =>
  (event, context) =>
    route({ event, ...context.input, auth: context.auth } as Req, context.call);

/**
 * The Lambda function around a stack: the base wrapper (lib/platform/lambda/handler.ts), and a
 * context of the request's own, so that what the middlewares learn is never written on Lambda's
 * object (its reads fall through to it). The request runs as an actor of its own for the audit
 * trail, tied to Lambda's request id; authentication names it (clinicAuth, adminAuth).
 */
export function httpFunction(stack: Stage) {
  return lambdaHandler<HttpEvent, HttpResult>(
    (event) => ({ route: event.routeKey }),
    (event, call) =>
      actingAs({ type: 'system', id: null, requestId: call.context.awsRequestId ?? null }, () =>
        stack(event, Object.assign(Object.create(call.context) as Context, { call })),
      ),
  );
}

/** An HTTP function of this API, as functions/http exports them and httpRouter takes them. */
export type HttpFunction = ReturnType<typeof httpFunction>;

/**
 * One function serving an API area: the route is picked by API Gateway's `routeKey`
 * (`"POST /v1/appointments"`, as in serverless.yml), and each route keeps its own stack. `access`
 * lists what each route declared (scope, admin, public), for the test that checks every route has one.
 */
export function httpRouter(routes: Record<string, RoutedHandler<HttpEvent, HttpResult> & { access?: RouteAccess }>) {
  const router = lambdaRouter<HttpEvent, HttpResult>(
    (event) => event.routeKey,
    routes,
    async (event, key) => errorToResponse(new NotFoundError(`No route ${key}`), event),
  );
  const access = Object.fromEntries(Object.entries(routes).map(([key, r]) => [key, r.access]));
  return Object.assign(router, { access: access as Record<string, RouteAccess | undefined> });
}
