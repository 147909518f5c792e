import { NotFoundError } from '../errors/app-error';
import { lambdaHandler, lambdaRouter, type Invocation, type RoutedHandler } from '../lambda/handler';
import { errorToResponse } from './errors';
import type { HttpResult } from './response';
import type { HttpEvent } from './types';

export type { HttpEvent } from './types';
export type RouteHandler = (event: HttpEvent, call: Invocation) => Promise<HttpResult>;

/** An HTTP API route: the base Lambda wrapper, with every thrown error mapped to HTTP in one place. */
export function httpHandler(route: RouteHandler) {
  return lambdaHandler<HttpEvent, HttpResult>(
    (event) => ({ route: event.routeKey }),
    async (event, call) => {
      try {
        return await route(event, call);
      } catch (err) {
        return errorToResponse(err, event);
      }
    },
  );
}

/**
 * One function serving an API area: the route is picked by API Gateway's `routeKey`
 * (`"POST /v1/appointments"`, as in serverless.yml), and each route keeps its own handling.
 */
export function httpRouter(routes: Record<string, RoutedHandler<HttpEvent, HttpResult>>) {
  return lambdaRouter<HttpEvent, HttpResult>(
    (event) => event.routeKey,
    routes,
    async (event, key) => errorToResponse(new NotFoundError(`No route ${key}`), event),
  );
}
