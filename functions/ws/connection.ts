import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { lambdaHandler } from '../../lib/lambda/handler';

type SocketEvent = APIGatewayProxyWebsocketEventV2;
const describe = (event: SocketEvent) => ({ route: event.requestContext.routeKey, connectionId: event.requestContext.connectionId });

/**
 * `$connect`. Accepts the socket; the only message served so far (`ping`) exposes no clinic data.
 * Issue #4 puts API-key authentication here before any clinic subscription exists.
 */
export const connect = lambdaHandler(describe, async () => ({ statusCode: 200 }));

/** `$disconnect`: logged by the wrapper; nothing is stored per connection yet. */
export const disconnect = lambdaHandler(describe, async () => ({ statusCode: 200 }));
