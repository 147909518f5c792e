import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { AppError } from '../errors/app-error';
import { beginInvocation, type InvocationInfo } from '../observability/container';
import { logger } from '../observability/logger';
import { endpointFromEvent, pushToConnection } from './push';

export type SocketEvent = APIGatewayProxyWebsocketEventV2;

/** What a route does with one message: returns the reply to push back, or nothing. */
export type SocketRoute = (event: SocketEvent, invocation: InvocationInfo, context: Context) => Promise<unknown>;

/**
 * Wraps a WebSocket route: Lambda context in the logs, the container's warm state, and the reply
 * (or a typed error as `{type: "error", code, message}`) pushed back to the calling connection.
 */
export function socketHandler(route: SocketRoute) {
  return middy<SocketEvent, { statusCode: number }>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      context.callbackWaitsForEmptyEventLoop = false;
      const invocation = beginInvocation();
      const { connectionId, routeKey } = event.requestContext;
      logger.appendKeys({ invocation: invocation.invocation, coldStart: invocation.coldStart, connectionId });
      logger.info('invocation.start', { route: routeKey });
      let reply: unknown;
      try {
        reply = await route(event, invocation, context);
      } catch (err) {
        if (!(err instanceof AppError)) logger.error('socket.unhandled_error', err as Error);
        reply =
          err instanceof AppError
            ? { type: 'error', code: err.code, message: err.message, details: err.details }
            : { type: 'error', code: 'internal_error', message: 'Internal server error' };
      }
      if (reply !== undefined) {
        const delivered = await pushToConnection(endpointFromEvent(event.requestContext), connectionId, reply);
        if (!delivered) logger.info('socket.connection_gone');
      }
      return { statusCode: 200 };
    });
}
