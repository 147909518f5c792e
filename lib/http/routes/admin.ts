import { adminAuth } from '../middlewares/admin-auth';
import { httpErrors } from '../middlewares/http-errors';
import { parseInput, type InputSpec, type RouteRequest } from '../middlewares/parse-input';
import { withAccess, type WithAccess } from './access';
import { httpFunction, run, specAndRoute, stage, type HttpFunction, type Route, type RouteArgs } from './function';

/** An operator route: ADMIN_SECRET (401), then the input, then the route; no rate limit, no idempotency. */
export function adminRoute(route: Route<RouteRequest<{}>>): WithAccess<HttpFunction>;
export function adminRoute<S extends InputSpec>(spec: S, route: Route<RouteRequest<S>>): WithAccess<HttpFunction>;
export function adminRoute(...args: RouteArgs): WithAccess<HttpFunction> {
  const [spec, route] = specAndRoute(args);
  return withAccess(httpFunction(stage(httpErrors(), adminAuth(), parseInput(spec)).handler(run(route))), 'admin');
}
