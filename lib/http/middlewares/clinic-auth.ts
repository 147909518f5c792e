import { authenticateApiKey, type AuthContext } from '../../domain/tenancy/api-keys';
import { requireScope, type Scope } from '../../domain/tenancy/scopes';
import { bearerToken } from '../credentials';
import type { HttpContext, HttpMiddleware } from '../types';

/**
 * Resolves `Authorization: Bearer <api key>` to its clinic (401 otherwise), then checks that the key
 * holds the route's scope (403 `insufficient_scope`, naming it), before anything else runs: every
 * /v1 query is scoped to that clinic, and the rate budgets are the key's and the clinic's.
 */
export const clinicAuth = (scope: Scope): HttpMiddleware => ({
  before: async ({ event, context }) => {
    const auth = await authenticateApiKey(bearerToken(event));
    requireScope(auth.scopes, scope);
    context.auth = auth;
  },
});

/** The clinic clinicAuth found; a stack that reads it without clinicAuth before it is a bug, not a 401. */
export function authOf(context: HttpContext): AuthContext {
  if (!context.auth) throw new Error('clinicAuth must run before this middleware');
  return context.auth;
}
