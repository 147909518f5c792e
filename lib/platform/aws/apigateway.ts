import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { getConfig } from '../config';

type ManagementSdk = typeof import('@aws-sdk/client-apigatewaymanagementapi');
let sdk: Promise<ManagementSdk> | undefined;

/**
 * The Management API's SDK module, loaded at the first push or close: the AWS SDK is a large part
 * of any bundle that holds it, and most invocations of the functions that can push never do.
 */
export function managementSdk(): Promise<ManagementSdk> {
  sdk ??= import('@aws-sdk/client-apigatewaymanagementapi');
  return sdk;
}

const clients = new Map<string, ApiGatewayManagementApiClient>();

/**
 * The Management API client that pushes to WebSocket connections, one per endpoint per container
 * (a container serves one API, so in practice one). WEBSOCKET_ENDPOINT overrides the endpoint
 * derived from the event, e.g. serverless-offline's WebSocket port locally.
 */
export async function getApiGatewayClient(derivedEndpoint: string): Promise<ApiGatewayManagementApiClient> {
  const { aws } = getConfig();
  const endpoint = aws.websocketEndpoint ?? derivedEndpoint;
  const { ApiGatewayManagementApiClient: Client } = await managementSdk();
  let client = clients.get(endpoint);
  if (!client) {
    client = new Client({
      region: aws.region,
      endpoint,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
    });
    clients.set(endpoint, client);
  }
  return client;
}

/** Destroys every client's sockets. Only lib/platform/lifecycle calls this. */
export function closeApiGatewayClients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}
