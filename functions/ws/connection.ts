import { forgetConnections } from '../../lib/domain/realtime/connections';
import { openConnection } from '../../lib/domain/realtime/connect';
import { disconnectHandler, handshakeHandler } from '../../lib/socket/lifecycle';

/** `$connect`: a socket whose ticket checked out is stored; a bad, used or expired ticket, or a revoked key, refuses it (401). */
export const connect = handshakeHandler((handshake) => openConnection(handshake));

/** `$disconnect`: forgets the connection (a push to it would answer 410 anyway). */
export const disconnect = disconnectHandler((event) => forgetConnections([event.requestContext.connectionId]));
