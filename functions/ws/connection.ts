import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { beginInvocation } from '../../lib/observability/container';
import { logger } from '../../lib/observability/logger';

type Result = { statusCode: number };

/** Logs a connection's lifecycle event with the container's warm state; opens nothing. */
const lifecycle = (what: string) =>
  middy<APIGatewayProxyWebsocketEventV2, Result>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      context.callbackWaitsForEmptyEventLoop = false;
      logger.info(what, { connectionId: event.requestContext.connectionId, ...beginInvocation() });
      return { statusCode: 200 };
    });

/**
 * `$connect`. Accepts the socket; the only message served so far (`ping`) exposes no clinic data.
 * Issue #4 puts API-key authentication here before any clinic subscription exists.
 */
export const connect = lifecycle('socket.connected');

/** `$disconnect`. */
export const disconnect = lifecycle('socket.disconnected');
