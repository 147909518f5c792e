import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { beginInvocation, type InvocationInfo } from '../observability/container';
import { logger } from '../observability/logger';
import { loadSecrets } from '../secrets/load-secrets';

/** What every function body receives besides its event. */
export interface Invocation {
  /** This container's warm state: id, cold or not, invocation count. */
  invocation: InvocationInfo;
  context: Context;
}

/** The unwrapped work of a handler: what a router runs when it picks this route. */
export interface Route<E, R> {
  describe: (event: E) => Record<string, unknown>;
  body: (event: E, call: Invocation) => Promise<R>;
}

/**
 * The base of every Lambda function: Lambda context in each log line, the environment's secret
 * references resolved before anything reads the configuration (once per container; a warm
 * invocation only awaits a settled promise), the container's warm state counted and logged once per
 * invocation, and `callbackWaitsForEmptyEventLoop` off so the open pool and Redis sockets never
 * hold a response back. HTTP, WebSocket and job functions build on it.
 * The handler carries its unwrapped `route`, so one function can serve several routes
 * (`lambdaRouter`) while each route stays invocable on its own.
 */
export function lambdaHandler<E, R>(describe: Route<E, R>['describe'], body: Route<E, R>['body']) {
  const handler = middy<E, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    // After the context (its failure is logged with the request id), before any config is read.
    .use({ before: async () => void (await loadSecrets()) })
    .handler(async (event, context) => {
      context.callbackWaitsForEmptyEventLoop = false;
      const invocation = beginInvocation();
      logger.appendKeys({ invocation: invocation.invocation, coldStart: invocation.coldStart });
      logger.info('invocation.start', describe(event));
      return body(event, { invocation, context });
    });
  return Object.assign(handler, { route: { describe, body } satisfies Route<E, R> });
}

/** A handler made by `lambdaHandler`, as a router takes it. */
export type RoutedHandler<E, R> = { route: Route<E, R> };

/**
 * One function for several routes (an API area, or a WebSocket API's `$connect`, `$disconnect`
 * and `$default`): fewer functions means fewer cold starts and idle connections, since a warm
 * container serves every route of its area. `key` picks the route from the event; the table's
 * keys are what API Gateway sends (a test checks them against serverless.yml).
 */
export function lambdaRouter<E, R>(
  key: (event: E) => string,
  routes: Record<string, RoutedHandler<E, R>>,
  unknown: (event: E, key: string) => Promise<R>,
) {
  const pick = (event: E) => routes[key(event)]?.route;
  const handler = lambdaHandler<E, R>(
    (event) => pick(event)?.describe(event) ?? { route: key(event) },
    (event, call) => pick(event)?.body(event, call) ?? unknown(event, key(event)),
  );
  return Object.assign(handler, { routeKeys: Object.keys(routes) });
}
