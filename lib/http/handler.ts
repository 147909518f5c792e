import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { beginInvocation, type InvocationInfo } from '../observability/container';
import { logger } from '../observability/logger';
import { errorToResponse } from './errors';
import type { HttpResult } from './response';

export type HttpEvent = APIGatewayProxyEventV2;
export type RouteHandler = (event: HttpEvent, invocation: InvocationInfo, context: Context) => Promise<HttpResult>;

/**
 * Wraps a route: Lambda context in every log line, the container's invocation count and cold flag
 * logged per invocation, and every thrown error mapped to HTTP in one place (lib/http/errors.ts).
 * `callbackWaitsForEmptyEventLoop` is off so open sockets (pool, Redis) never hold a response.
 */
export function httpHandler(route: RouteHandler) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      context.callbackWaitsForEmptyEventLoop = false;
      const invocation = beginInvocation();
      logger.appendKeys({ invocation: invocation.invocation, coldStart: invocation.coldStart });
      logger.info('invocation.start', { route: event.routeKey });
      try {
        return await route(event, invocation, context);
      } catch (err) {
        return errorToResponse(err);
      }
    });
}
