import { getDb } from '../../platform/db/client';
import { UnauthorizedError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { forgetConnections, isKeyRevoked } from './connections';

/** A socket whose handshake key was authenticated: the row it gets. */
export interface NewConnection {
  connectionId: string;
  clinicId: string;
  apiKeyId: string;
  /** The Management API endpoint that reaches the socket. */
  endpoint: string;
}

/**
 * Stores an authenticated socket with its clinic, key and endpoint, so pushes and the close of a
 * revoked key find it. A reused connection id starts over: unsubscribed, seen now.
 *
 * The key is checked again once the row is stored: a revoke that committed in between would
 * otherwise leave a socket its close job (which runs after the revoke and looks for rows) missed.
 * Such a socket is forgotten and refused with an `UnauthorizedError`.
 */
export async function openConnection({ connectionId, clinicId, apiKeyId, endpoint }: NewConnection): Promise<void> {
  const db = await getDb();
  await db.socketConnection.upsert({
    where: { connectionId },
    create: { connectionId, clinicId, apiKeyId, endpoint },
    update: { clinicId, apiKeyId, endpoint, scope: null, connectedAt: new Date(), lastSeenAt: new Date() },
  });
  if (await isKeyRevoked(apiKeyId)) {
    await forgetConnections([connectionId]);
    throw new UnauthorizedError('API key revoked');
  }
  logger.info('socket.connected', { connectionId, clinicId });
}
