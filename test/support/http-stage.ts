import type { Context } from 'aws-lambda';
import { stage, type Stage } from '../../lib/http/routes/function';
import type { HttpResult } from '../../lib/http/response';
import type { HttpContext, HttpEvent, HttpMiddleware } from '../../lib/http/types';
import { buildContext, buildHttpEvent, type InvokeRequest } from './invoke';

/** A request's context as httpFunction builds it, with room for what middlewares set. */
export function httpContext(extra: Partial<HttpContext> = {}): HttpContext {
  const context = buildContext();
  return Object.assign(Object.create(context) as Context, { call: { invocation: {} as never, context } }, extra);
}

/** An HTTP API event; POST with a JSON body unless told otherwise. */
export const httpEvent = (req: Partial<InvokeRequest> = {}): HttpEvent => buildHttpEvent({ path: '/v1/things', ...req });

/** Runs one middy stage of the given middlewares around `handler`, as the route factories build them. */
export function runStage(
  middlewares: HttpMiddleware[],
  handler: Stage,
  event: HttpEvent = httpEvent(),
  context: HttpContext = httpContext(),
): Promise<HttpResult> {
  return stage(...middlewares).handler(handler)(event, context);
}
