import { auditReplay } from '../idempotency/replay-audit';
import { idempotentRequest } from '../idempotency/request';
import { idempotencyStore as store } from '../idempotency/store';
import type { HttpResult } from '../response';
import type { HttpMiddleware } from '../types';
import { authOf } from './clinic-auth';

/**
 * Runs a POST with `Idempotency-Key` at most once per (clinic, key), Stripe-style, so that a client
 * may retry after a timeout without booking twice:
 *
 * - before: a malformed key is a 400 and an oversize body a 413; then the key is claimed. A key
 *   held by another request answers at once, without the route: its stored response (replayed),
 *   409 while it runs, 422 when it was another request. A replay is recorded in the audit trail as
 *   a read of the record it shows.
 * - after: the route's answer is stored for 24 h when below 500 (4xx included, so they replay too);
 *   a 5xx gives the key back so that a retry runs the route again.
 *
 * The route's errors must reach it as responses (an httpErrors stage inside this one): middy runs
 * no after-middleware for an error.
 */
export function idempotency(): HttpMiddleware {
  const claims = new WeakMap<object, string>();
  return {
    before: async (request): Promise<HttpResult | undefined> => {
      const req = idempotentRequest(request.event, authOf(request.context).clinicId);
      if (!req) return undefined;
      const claimId = await store.claim(req);
      if (claimId === undefined) {
        // An early response: the route does not run. A replay discloses the record again: audited.
        const replay = await store.answer(req);
        await auditReplay(req.clinicId, req.path, replay);
        return replay;
      }
      claims.set(request, claimId);
      return undefined;
    },
    after: async (request) => {
      const claimId = claims.get(request);
      if (claimId === undefined) return;
      claims.delete(request); // settled here, whatever happens next
      const response = request.response!;
      if (response.statusCode >= 500) await store.release(claimId);
      else await store.complete(claimId, response);
    },
    onError: async (request) => {
      const claimId = claims.get(request);
      if (claimId !== undefined) await store.release(claimId);
    },
  };
}
