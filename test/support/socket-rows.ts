import { randomUUID } from 'node:crypto';

/**
 * A socket_connections row as `$connect` (and `subscribe`, for its scope) leave it, written straight
 * through the product's Prisma client; its pushes go to `endpoint` (a Management API stand-in).
 * Returns its connection id, `{name}-{random}=` (API Gateway's end in `=`; the name tells them
 * apart in a failure).
 */
export async function newSocketRow(
  row: { clinicId: string; apiKeyId: string; endpoint: string; scope: string; connectedAt?: Date; lastSeenAt?: Date },
  name = 'c',
): Promise<string> {
  const { getDb } = await import('../../lib/platform/db/client');
  const connectionId = `${name}-${randomUUID().slice(0, 12)}=`;
  await (await getDb()).socketConnection.create({ data: { connectionId, ...row } });
  return connectionId;
}

/** A revoked API key of the clinic (a socket it opened must not be pushed to), straight through Prisma. */
export async function newRevokedApiKey(clinicId: string) {
  const { getDb } = await import('../../lib/platform/db/client');
  return (await getDb()).apiKey.create({ data: { clinicId, name: 'old', prefix: randomUUID().slice(0, 12), keyHash: '0'.repeat(64), revokedAt: new Date() } });
}
