import { lambdaRouter } from '../../lib/platform/lambda/handler';
import type { SocketEvent, SocketResult } from '../../lib/socket/types';
import { connect, disconnect } from './connection';
import { handler as message } from './default';

/**
 * The route each kind of WebSocket event goes to. Picked by `eventType`, not `routeKey`: every
 * message reaches `$default` (the API has no other message route), and serverless-offline sets
 * `routeKey` to the message's action instead of `$default`.
 */
const ROUTE_OF: Record<string, string> = { CONNECT: '$connect', MESSAGE: '$default', DISCONNECT: '$disconnect' };

/**
 * The socket function: `$connect`, `$disconnect` and `$default` of the WebSocket API in one
 * function (socket profile: one lazily opened connection, no Redis), so a warm container serves a
 * client's whole session.
 */
export const handler = lambdaRouter<SocketEvent, SocketResult>(
  (event) => ROUTE_OF[event.requestContext.eventType] ?? event.requestContext.eventType,
  { $connect: connect, $disconnect: disconnect, $default: message },
  async () => ({ statusCode: 404 }),
);
