import { errorToResponse } from '../errors';
import type { HttpMiddleware } from '../types';

/**
 * Answers whatever was thrown inside its middy stage with the error's HTTP response
 * (lib/http/errors.ts), so no error reaches Lambda as an invocation failure.
 */
export const httpErrors = (): HttpMiddleware => ({
  onError: (request) => {
    request.response = errorToResponse(request.error, request.event);
  },
});
