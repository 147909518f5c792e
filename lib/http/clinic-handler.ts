import type { Invocation } from '../lambda/handler';
import { requireClinic, type AuthContext } from './auth';
import { errorToResponse } from './errors';
import { httpHandler } from './handler';
import { idempotentRequest, withIdempotency } from './idempotency';
import { consumeRateLimit, rateLimitHeaders } from './rate-limit';
import type { HttpResult } from './response';
import type { HttpEvent } from './types';

export type ClinicRouteHandler = (event: HttpEvent, auth: AuthContext, call: Invocation) => Promise<HttpResult>;

/**
 * A `/v1` route. Before it runs: the caller's API key resolved to its clinic (401), one request of
 * the key's rate budget spent in Redis (429 with Retry-After; while Redis is down, counted in this
 * container's memory instead, never a pass), and for a POST with `Idempotency-Key` the key claimed
 * for this clinic (replay, 409 or 422; see lib/http/idempotency.ts). The route's errors are
 * mapped to their response inside the idempotency wrapper, so 4xx answers are stored and replayed
 * like successes.
 */
export function clinicHandler(route: ClinicRouteHandler) {
  return httpHandler(async (event, call) => {
    const auth = await requireClinic(event);
    const budget = await consumeRateLimit(auth.apiKeyId);
    const idempotent = idempotentRequest(event, auth.clinicId);
    const run = async (): Promise<HttpResult> => {
      try {
        return await route(event, auth, call);
      } catch (err) {
        return errorToResponse(err, event);
      }
    };
    const result = idempotent ? await withIdempotency(idempotent, run) : await run();
    return { ...result, headers: { ...result.headers, ...rateLimitHeaders(budget) } };
  });
}
