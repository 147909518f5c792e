import { GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { getApiGatewayClient } from '../aws/apigateway';

/** Where a WebSocket API's Management API lives, from a WebSocket event's request context. */
export function endpointFromEvent(ctx: { domainName?: string; stage?: string }): string {
  return `https://${ctx.domainName ?? 'localhost'}/${ctx.stage ?? ''}`;
}

/**
 * Sends one JSON message to one connection. Returns false when the connection is gone (410),
 * which callers treat as "forget this connection", not as an error.
 */
export async function pushToConnection(endpoint: string, connectionId: string, message: unknown): Promise<boolean> {
  try {
    await getApiGatewayClient(endpoint).send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(message)) }),
    );
    return true;
  } catch (err) {
    if (err instanceof GoneException || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) {
      return false;
    }
    throw err;
  }
}
