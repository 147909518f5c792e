import { createHash, randomBytes } from 'node:crypto';
import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { UnauthorizedError } from '../../platform/errors/app-error';

/** `agt_<secret>`: never an API key's shape, so a ticket opens a socket and nothing else. */
const TICKET_PATTERN = /^agt_[A-Za-z0-9_-]{43}$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Who a ticket speaks for: the clinic and the key that minted it (the socket belongs to that key). */
export interface TicketHolder {
  clinicId: string;
  apiKeyId: string;
}

export interface MintedTicket {
  /** Shown once; only its SHA-256 is stored. */
  ticket: string;
  expiresAt: Date;
}

/**
 * A WebSocket ticket for the caller's clinic and key: single use, valid for REALTIME_TICKET_TTL_S.
 * A browser puts it in the socket URL (`?ticket=`), where an API key would end up in access logs and
 * history; a leaked ticket is worth one socket for a minute at most, and never any HTTP call.
 * Stored in PostgreSQL: the socket function that redeems it has no Redis.
 */
export async function mintTicket(auth: TicketHolder): Promise<MintedTicket> {
  const ticket = `agt_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + getConfig().realtimeTicketTtlSeconds * 1000);
  const db = await getDb();
  await db.realtimeTicket.create({ data: { tokenHash: sha256(ticket), clinicId: auth.clinicId, apiKeyId: auth.apiKeyId, expiresAt } });
  return { ticket, expiresAt };
}

type Redeemed = TicketHolder & { live: boolean; keyValid: boolean };

/**
 * Spends a ticket: the row is deleted in the same statement that reads it, so of two handshakes
 * with one ticket only one finds it. Unknown, malformed, used, expired tickets and those of a key
 * revoked (or stripped of `read`) since all get the same 401.
 */
export async function redeemTicket(ticket: string | undefined): Promise<TicketHolder> {
  if (!ticket || !TICKET_PATTERN.test(ticket)) throw new UnauthorizedError('Missing or invalid socket ticket');
  const db = await getDb();
  const [row] = await db.$queryRaw<Redeemed[]>`
    DELETE FROM realtime_tickets t USING api_keys k
    WHERE t.token_hash = ${sha256(ticket)} AND k.id = t.api_key_id
    RETURNING t.clinic_id::text AS "clinicId", t.api_key_id::text AS "apiKeyId", (t.expires_at > now()) AS live,
              (k.revoked_at IS NULL AND 'read' = ANY(k.scopes)) AS "keyValid"`;
  if (!row || !row.live || !row.keyValid) throw new UnauthorizedError('Missing or invalid socket ticket');
  return { clinicId: row.clinicId, apiKeyId: row.apiKeyId };
}

/** Deletes tickets expired unused (the socket sweep's housekeeping); returns how many. */
export async function purgeExpiredTickets(now = new Date()): Promise<number> {
  const db = await getDb();
  const { count } = await db.realtimeTicket.deleteMany({ where: { expiresAt: { lt: now } } });
  return count;
}
