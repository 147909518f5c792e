import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { getConfig } from '../config';

const clients = new Map<string, ApiGatewayManagementApiClient>();

/**
 * The Management API client that pushes to WebSocket connections, one per endpoint per container
 * (a container serves one API, so in practice one). WEBSOCKET_ENDPOINT overrides the endpoint
 * derived from the event, e.g. serverless-offline's WebSocket port locally.
 */
export function getApiGatewayClient(derivedEndpoint: string): ApiGatewayManagementApiClient {
  const { aws } = getConfig();
  const endpoint = aws.websocketEndpoint ?? derivedEndpoint;
  let client = clients.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({
      region: aws.region,
      endpoint,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
    });
    clients.set(endpoint, client);
  }
  return client;
}

/** Destroys every client's sockets. Only lib/lifecycle calls this. */
export function closeApiGatewayClients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}
