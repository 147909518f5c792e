import { UnauthorizedError } from '../platform/errors/app-error';
import { describeError } from '../platform/errors/describe';
import { lambdaHandler } from '../platform/lambda/handler';
import { logger } from '../platform/observability/logger';
import { endpointFromEvent } from '../domain/realtime/push';
import { redeemTicket, type TicketHolder } from '../domain/realtime/tickets';
import { stampKeyUse } from '../domain/tenancy/api-keys';
import { describeSocketEvent, type SocketEvent, type SocketResult } from './types';

/** A handshake whose ticket checked out: who opens the socket, and where to reach it. */
export type Handshake = TicketHolder & { connectionId: string; endpoint: string };

/**
 * `$connect`: the handshake's `?ticket=` (POST /v1/realtime/tickets; single use, short-lived) is
 * redeemed before `route` runs. Nothing else opens a socket: an API key, in `?token=` or a header,
 * would put a long-lived credential in URLs and logs, and is refused like a bad ticket. The status
 * is the only answer the client sees: an `UnauthorizedError` (a bad, used or expired ticket, or a
 * key `route` finds revoked) refuses the handshake with 401; any other error answers its described
 * status. Socket profile: the lazy pool opens on first use.
 */
export function handshakeHandler(route: (handshake: Handshake, event: SocketEvent) => Promise<void>) {
  return lambdaHandler<SocketEvent, SocketResult>(describeSocketEvent, async (event) => {
    const { connectionId } = event.requestContext;
    try {
      const holder = await redeemTicket(event.queryStringParameters?.ticket ?? undefined);
      // The key that minted the ticket is in use; stamped beside the route's own work.
      await Promise.all([route({ ...holder, connectionId, endpoint: endpointFromEvent(event.requestContext) }, event), stampKeyUse(holder.apiKeyId)]);
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
}

/** `$disconnect`: API Gateway ignores the answer and the client is gone, so it is always 200. */
export function disconnectHandler(route: (event: SocketEvent) => Promise<void>) {
  return lambdaHandler<SocketEvent, SocketResult>(describeSocketEvent, async (event) => {
    await route(event);
    return { statusCode: 200 };
  });
}
