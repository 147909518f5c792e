import { UnauthorizedError } from '../platform/errors/app-error';
import { describeError } from '../platform/errors/describe';
import { lambdaHandler, type Invocation } from '../platform/lambda/handler';
import { logger } from '../platform/observability/logger';
import { closeAndForget, touchConnection } from '../domain/realtime/connections';
import { endpointFromEvent, pushToConnection } from '../domain/realtime/push';
import { describeSocketEvent, type SocketConnection, type SocketEvent, type SocketResult } from './types';

const FOLLOW_UP = Symbol('followUp');

/** A reply with work that must come after it on the wire (e.g. a subscription's backlog after `subscribed`). */
export interface FollowedReply {
  [FOLLOW_UP]: () => Promise<unknown>;
  reply: unknown;
}

/** Pushes `reply`, then runs `followUp` in the same invocation; a follow-up failure is logged, not sent. */
export function followedBy(reply: unknown, followUp: () => Promise<unknown>): FollowedReply {
  return { reply, [FOLLOW_UP]: followUp };
}

/** What a route does with one message: returns the reply to push back, or nothing. */
export type SocketRoute = (event: SocketEvent, call: Invocation, connection: SocketConnection) => Promise<unknown>;

const isFollowed = (value: unknown): value is FollowedReply => typeof value === 'object' && value !== null && FOLLOW_UP in value;

/**
 * A WebSocket route: the base Lambda wrapper, with the reply (or the error, described as on HTTP,
 * as `{type: "error", code, message}`) pushed back to the calling connection. A failed push is
 * logged; the invocation still succeeds, since the client cannot be told anyway.
 *
 * Every message first proves its socket still stands: a socket without a row (closed, swept) or
 * opened by a key revoked since (its close failed or has not happened yet) gets an `unauthorized`
 * error and is closed, whatever it asked. The same lookup records the client's activity.
 */
export function socketHandler(route: SocketRoute) {
  return lambdaHandler<SocketEvent, SocketResult>(
    describeSocketEvent,
    async (event, call) => {
      const { connectionId } = event.requestContext;
      const endpoint = endpointFromEvent(event.requestContext);
      let reply: unknown;
      let followUp: (() => Promise<unknown>) | undefined;
      let refused = false;
      try {
        const found = await touchConnection(connectionId);
        if (!found || found.keyRevoked) {
          refused = true;
          throw new UnauthorizedError(found ? 'API key revoked' : 'Connection not authenticated');
        }
        const { keyRevoked: _revoked, ...connection } = found;
        const result = await route(event, call, connection);
        if (isFollowed(result)) {
          reply = result.reply;
          followUp = result[FOLLOW_UP];
        } else reply = result;
      } catch (err) {
        const { status: _status, retryAfter: _retry, ...error } = describeError(err);
        reply = { type: 'error', ...error };
      }
      if (reply !== undefined) {
        try {
          const delivered = await pushToConnection(endpoint, connectionId, reply);
          if (!delivered) logger.info('socket.connection_gone', { connectionId });
        } catch (err) {
          logger.error('socket.push_failed', { connectionId, error: (err as Error).message });
        }
      }
      if (refused) {
        logger.info('socket.refused_message', { connectionId });
        await closeAndForget([{ connectionId, endpoint }], 'refused').catch((err: Error) =>
          logger.warn('socket.close_failed', { connectionId, error: err.message }),
        );
      } else if (followUp) {
        try {
          await followUp();
        } catch (err) {
          logger.warn('socket.follow_up_failed', { connectionId, error: (err as Error).message });
        }
      }
      return { statusCode: 200 };
    },
  );
}
