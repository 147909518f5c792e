import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { describeError } from '../errors/describe';
import { lambdaHandler, type Invocation } from '../lambda/handler';
import { logger } from '../observability/logger';
import { endpointFromEvent, pushToConnection } from './push';

export type SocketEvent = APIGatewayProxyWebsocketEventV2;

/** What a route does with one message: returns the reply to push back, or nothing. */
export type SocketRoute = (event: SocketEvent, call: Invocation) => Promise<unknown>;

/**
 * A WebSocket route: the base Lambda wrapper, with the reply (or the error, described as on HTTP,
 * as `{type: "error", code, message}`) pushed back to the calling connection. A failed push is
 * logged; the invocation still succeeds, since the client cannot be told anyway.
 */
export function socketHandler(route: SocketRoute) {
  return lambdaHandler<SocketEvent, { statusCode: number }>(
    (event) => ({ route: event.requestContext.routeKey, connectionId: event.requestContext.connectionId }),
    async (event, call) => {
      let reply: unknown;
      try {
        reply = await route(event, call);
      } catch (err) {
        const { status: _status, retryAfter: _retry, ...error } = describeError(err);
        reply = { type: 'error', ...error };
      }
      if (reply === undefined) return { statusCode: 200 };
      const { connectionId } = event.requestContext;
      try {
        const delivered = await pushToConnection(endpointFromEvent(event.requestContext), connectionId, reply);
        if (!delivered) logger.info('socket.connection_gone', { connectionId });
      } catch (err) {
        logger.error('socket.push_failed', { connectionId, error: (err as Error).message });
      }
      return { statusCode: 200 };
    },
  );
}
