import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { beginInvocation, type InvocationInfo } from '../observability/container';
import { logger } from '../observability/logger';

/** What every function body receives besides its event. */
export interface Invocation {
  /** This container's warm state: id, cold or not, invocation count. */
  invocation: InvocationInfo;
  context: Context;
}

/**
 * The base of every Lambda function: Lambda context in each log line, the container's warm state
 * counted and logged once per invocation, and `callbackWaitsForEmptyEventLoop` off so the open
 * pool and Redis sockets never hold a response back. HTTP, WebSocket and job functions build on it.
 */
export function lambdaHandler<E, R>(
  describe: (event: E) => Record<string, unknown>,
  body: (event: E, call: Invocation) => Promise<R>,
) {
  return middy<E, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      context.callbackWaitsForEmptyEventLoop = false;
      const invocation = beginInvocation();
      logger.appendKeys({ invocation: invocation.invocation, coldStart: invocation.coldStart });
      logger.info('invocation.start', describe(event));
      return body(event, { invocation, context });
    });
}
