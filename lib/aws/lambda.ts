import { LambdaClient } from '@aws-sdk/client-lambda';
import { getConfig } from '../config';

let client: LambdaClient | undefined;

/**
 * The container's one Lambda client (its HTTP agent keeps connections alive across invocations).
 * LAMBDA_ENDPOINT points it at serverless-offline's Lambda port locally.
 */
export function getLambdaClient(): LambdaClient {
  if (!client) {
    const { aws } = getConfig();
    client = new LambdaClient({
      region: aws.region,
      ...(aws.lambdaEndpoint ? { endpoint: aws.lambdaEndpoint } : {}),
      maxAttempts: 3,
    });
  }
  return client;
}

/** Destroys the client's sockets. Only lib/lifecycle calls this. */
export function closeLambdaClient(): void {
  client?.destroy();
  client = undefined;
}
