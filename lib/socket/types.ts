import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { SocketConnectionInfo } from '../domain/realtime/connections';

/**
 * Any event of the WebSocket API. `$connect` also carries the handshake's headers and query string,
 * which the V2 type leaves out; one type for every route lets one function serve them all.
 */
export type SocketEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
};

/** API Gateway reads only the status, and only `$connect`'s reaches the client (401 refuses the handshake). */
export interface SocketResult {
  statusCode: number;
}

/** The calling socket's row: authenticated at `$connect`, by a key not revoked since. */
export type SocketConnection = Omit<SocketConnectionInfo, 'keyRevoked'>;

/** The fields of an invocation's first log line, alike for every route. */
export const describeSocketEvent = (event: SocketEvent) => ({
  route: event.requestContext.routeKey,
  connectionId: event.requestContext.connectionId,
});
