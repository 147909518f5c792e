import { DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { getApiGatewayClient } from '../aws/apigateway';

/** Where a WebSocket API's Management API lives, from a WebSocket event's request context. */
export function endpointFromEvent(ctx: { domainName?: string; stage?: string }): string {
  return `https://${ctx.domainName ?? 'localhost'}/${ctx.stage ?? ''}`;
}

export interface PushOptions {
  /** Bound on the whole call, retries included: a caller holding a row lock cannot wait for the SDK's own. */
  timeoutMs?: number;
}

const isGone = (err: unknown) =>
  err instanceof GoneException || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410;

const sendOptions = (opts: PushOptions) => (opts.timeoutMs ? { abortSignal: AbortSignal.timeout(opts.timeoutMs) } : {});

/**
 * Sends one JSON message to one connection. Returns false when the connection is gone (410),
 * which callers treat as "forget this connection", not as an error.
 */
export async function pushToConnection(endpoint: string, connectionId: string, message: unknown, opts: PushOptions = {}): Promise<boolean> {
  try {
    await getApiGatewayClient(endpoint).send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(message)) }),
      sendOptions(opts),
    );
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/**
 * Closes one connection from the server side (DeleteConnection; API Gateway then runs
 * `$disconnect`). Returns false when it was already gone (410): either way it is closed.
 */
export async function closeConnection(endpoint: string, connectionId: string, opts: PushOptions = {}): Promise<boolean> {
  try {
    await getApiGatewayClient(endpoint).send(new DeleteConnectionCommand({ ConnectionId: connectionId }), sendOptions(opts));
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}
