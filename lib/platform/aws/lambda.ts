import { LambdaClient } from '@aws-sdk/client-lambda';
import { getConfig } from '../config';

let client: LambdaClient | undefined;

/**
 * The container's one Lambda client (its HTTP agent keeps connections alive across invocations).
 * LAMBDA_ENDPOINT points it at serverless-offline's Lambda port locally. One attempt only: a
 * RequestResponse invoke that already started a processor must not be re-sent by the SDK; BullMQ
 * owns retries. The request timeout outlasts the job function's own timeout, so a hung invoke
 * fails the job instead of holding it active forever.
 */
export function getLambdaClient(): LambdaClient {
  if (!client) {
    const { aws } = getConfig();
    client = new LambdaClient({
      region: aws.region,
      ...(aws.lambdaEndpoint ? { endpoint: aws.lambdaEndpoint } : {}),
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: aws.jobFunctionTimeoutMs + 10_000 },
    });
  }
  return client;
}

/** Destroys the client's sockets. Only lib/platform/lifecycle calls this. */
export function closeLambdaClient(): void {
  client?.destroy();
  client = undefined;
}
