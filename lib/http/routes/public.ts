import { httpErrors } from '../middlewares/http-errors';
import { parseInput, type InputSpec, type RouteRequest } from '../middlewares/parse-input';
import { withAccess, type WithAccess } from './access';
import { httpFunction, run, specAndRoute, stage, type HttpFunction, type Route, type RouteArgs } from './function';

/**
 * A route without credentials (/health, the API's documents): input, then the route, errors mapped.
 * Its stack reaches no database or Redis code, so the docs function ships without them.
 */
export function publicRoute(route: Route<RouteRequest<{}>>): WithAccess<HttpFunction>;
export function publicRoute<S extends InputSpec>(spec: S, route: Route<RouteRequest<S>>): WithAccess<HttpFunction>;
export function publicRoute(...args: RouteArgs): WithAccess<HttpFunction> {
  const [spec, route] = specAndRoute(args);
  return withAccess(httpFunction(stage(httpErrors(), parseInput(spec)).handler(run(route))), 'public');
}
