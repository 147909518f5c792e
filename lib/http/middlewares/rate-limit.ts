import { consumeRateLimit, rateLimitHeaders, type RateLimitState } from '../rate-limit';
import type { HttpMiddleware } from '../types';
import { authOf } from './clinic-auth';

/**
 * Spends one request of the API key's and of its clinic's budgets before the route (429 past either;
 * see lib/http/rate-limit.ts) and tells the caller what is left of the tighter one: `RateLimit-*`
 * headers on every answer that comes back through this middleware, errors and replays included,
 * set over any header of the same name.
 */
export function rateLimit(): HttpMiddleware {
  const budgets = new WeakMap<object, RateLimitState | undefined>();
  return {
    before: async (request) => {
      budgets.set(request, await consumeRateLimit(authOf(request.context)));
    },
    after: (request) => {
      const response = request.response!;
      request.response = { ...response, headers: { ...response.headers, ...rateLimitHeaders(budgets.get(request)) } };
    },
  };
}
