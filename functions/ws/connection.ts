import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { getDb } from '../../lib/db/client';
import { describeError } from '../../lib/errors/describe';
import { bearerToken } from '../../lib/http/credentials';
import { UnauthorizedError } from '../../lib/errors/app-error';
import { lambdaHandler } from '../../lib/lambda/handler';
import { logger } from '../../lib/observability/logger';
import { forgetConnections, isKeyRevoked } from '../../lib/realtime/connections';
import { endpointFromEvent } from '../../lib/realtime/push';
import { authenticateKey } from '../../lib/tenancy/api-keys';

/** `$connect` carries the handshake's headers and query string (the V2 type leaves them out). */
type SocketEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
};
const describe = (event: SocketEvent) => ({ route: event.requestContext.routeKey, connectionId: event.requestContext.connectionId });

/**
 * The API key of a handshake: `Authorization: Bearer <key>` or, since browsers cannot set headers
 * on a WebSocket, the `token` query parameter.
 */
function keyFromEvent(event: SocketEvent): string | undefined {
  return bearerToken(event) ?? event.queryStringParameters?.token ?? undefined;
}

/**
 * `$connect`: authenticates the API key (401 refuses the handshake) and stores the connection with
 * its clinic, key and Management API endpoint. Socket profile: the lazy pool opens on first use.
 *
 * The key is checked again once the row is stored: a revoke that committed in between would
 * otherwise leave a socket its close job (which runs after the revoke and looks for rows) missed.
 */
export const connect = lambdaHandler(describe, async (event: SocketEvent) => {
  const { connectionId } = event.requestContext;
  try {
    const db = await getDb();
    const auth = await authenticateKey(db, keyFromEvent(event));
    const endpoint = endpointFromEvent(event.requestContext);
    await db.socketConnection.upsert({
      where: { connectionId },
      create: { connectionId, clinicId: auth.clinicId, apiKeyId: auth.apiKeyId, endpoint },
      update: { clinicId: auth.clinicId, apiKeyId: auth.apiKeyId, endpoint, scope: null, connectedAt: new Date(), lastSeenAt: new Date() },
    });
    if (await isKeyRevoked(auth.apiKeyId)) {
      await forgetConnections([connectionId]);
      throw new UnauthorizedError('API key revoked');
    }
    logger.info('socket.connected', { connectionId, clinicId: auth.clinicId });
    return { statusCode: 200 };
  } catch (err) {
    if (err instanceof UnauthorizedError) {
      logger.info('socket.refused', { connectionId });
      return { statusCode: 401 };
    }
    const described = describeError(err);
    logger.error('socket.connect_failed', { connectionId, code: described.code });
    return { statusCode: described.status };
  }
});

/** `$disconnect`: forgets the connection (a push to it would answer 410 anyway). */
export const disconnect = lambdaHandler(describe, async (event: SocketEvent) => {
  await forgetConnections([event.requestContext.connectionId]);
  return { statusCode: 200 };
});
