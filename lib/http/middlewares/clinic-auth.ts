import { identifyActor } from '../../platform/db/actor';
import { authenticateApiKey, stampKeyUse, type AuthContext } from '../../domain/tenancy/api-keys';
import { requireScope, type Scope } from '../../domain/tenancy/scopes';
import { bearerToken } from '../credentials';
import type { HttpContext, HttpMiddleware } from '../types';

/**
 * Resolves `Authorization: Bearer <api key>` to its clinic (401 otherwise), then checks that the key
 * holds the route's scope (the key is the audit trail's actor from here on) (403 `insufficient_scope`, naming it), before anything else runs: every
 * /v1 query is scoped to that clinic, and the rate budgets are the key's and the clinic's. The
 * key's `last_used_at` is written meanwhile (at most once a minute).
 */
export const clinicAuth = (scope: Scope): HttpMiddleware => ({
  before: async ({ event, context }) => {
    const auth = await authenticateApiKey(bearerToken(event));
    identifyActor('api_key', auth.apiKeyId);
    context.keyStamp = stampKeyUse(auth.apiKeyId);
    requireScope(auth.scopes, scope);
    context.auth = auth;
  },
  // The stamp never throws: awaiting it only keeps the answer until it is written.
  after: async ({ context }) => void (await context.keyStamp),
  onError: async ({ context }) => void (await context.keyStamp),
});

/** The clinic clinicAuth found; a stack that reads it without clinicAuth before it is a bug, not a 401. */
export function authOf(context: HttpContext): AuthContext {
  if (!context.auth) throw new Error('clinicAuth must run before this middleware');
  return context.auth;
}
