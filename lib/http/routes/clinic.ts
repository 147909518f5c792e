import type { AuthContext } from '../../domain/tenancy/api-keys';
import { isScope, type Scope } from '../../domain/tenancy/scopes';
import { clinicAuth } from '../middlewares/clinic-auth';
import { httpErrors } from '../middlewares/http-errors';
import { idempotency } from '../middlewares/idempotency';
import { parseInput, type InputSpec, type RouteRequest } from '../middlewares/parse-input';
import { rateLimit } from '../middlewares/rate-limit';
import { withAccess, type WithAccess } from './access';
import { httpFunction, run, specAndRoute, stage, type HttpFunction, type Route, type RouteArgs } from './function';

/** A /v1 route's request: its input, and the clinic its API key belongs to. */
export type ClinicRequest<S extends InputSpec> = RouteRequest<S> & { auth: AuthContext };

/**
 * A /v1 route, and the scope its key must hold (lib/domain/tenancy/scopes.ts): declared here and
 * nowhere else, and required, so no route is open by default. Each step answers before the next one
 * runs, in this order: the API key resolved to its clinic (401), the scope (403), one request of the
 * key's and the clinic's budgets (429), the Idempotency-Key (400, 413; a replay, 409 or 422), the
 * input (400, 413, 415), the route.
 *
 * Three middy stages, because middy runs no after-middleware of a stage once one of its
 * before-middlewares answers early (a replay) or an error is mapped:
 * - outer: auth, scope and rate limit. Their errors, and those of idempotency, are answered without
 *   `RateLimit-*` headers; whatever the middle stage returns (replays included) gets them.
 * - middle: idempotency, which stores or releases whatever the inner stage answered.
 * - inner: input and route errors become responses here, so that a 4xx is stored and replayed
 *   like a success and carries the rate-limit headers.
 */
export function clinicRoute(scope: Scope, route: Route<ClinicRequest<{}>>): WithAccess<HttpFunction>;
export function clinicRoute<S extends InputSpec>(scope: Scope, spec: S, route: Route<ClinicRequest<S>>): WithAccess<HttpFunction>;
export function clinicRoute(scope: Scope, ...args: RouteArgs): WithAccess<HttpFunction> {
  // Also for callers the type checker does not see: a route without a known scope never loads.
  if (!isScope(scope)) throw new Error(`clinicRoute: a route must declare its scope (read, write or admin), got ${String(scope)}`);
  const [spec, route] = specAndRoute(args);
  const inner = stage(httpErrors(), parseInput(spec)).handler(run(route));
  const middle = stage(idempotency()).handler(inner);
  return withAccess(httpFunction(stage(httpErrors(), clinicAuth(scope), rateLimit()).handler(middle)), { scope });
}
