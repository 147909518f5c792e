import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { getDb, type Db } from '../../platform/db/client';
import { UnauthorizedError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { normalizeScopes, type Scope } from './scopes';

/** `agk_<prefix>_<secret>`: the prefix finds the row by index; only a SHA-256 of the whole key is stored. */
const KEY_PATTERN = /^agk_([a-z0-9]{12})_([A-Za-z0-9_-]{32,64})$/;

export interface IssuedKey {
  /** Shown once, to whoever created it; never stored. */
  key: string;
  prefix: string;
  hash: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A new random key (192 bits of secret). */
export function issueKey(): IssuedKey {
  const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
  const key = `agk_${prefix}_${randomBytes(24).toString('base64url')}`;
  return { key, prefix, hash: sha256(key) };
}

/**
 * Creates a key for a clinic with the given scopes and returns it with its secret, the only time it
 * is visible. Scope and cap rules are the caller's (key-issuing.ts; the bootstrap gives all scopes).
 */
export async function createApiKey(db: Pick<Db, 'apiKey'>, clinicId: string, name: string, scopes: readonly Scope[]) {
  const issued = issueKey();
  const row = await db.apiKey.create({
    data: { clinicId, name, prefix: issued.prefix, keyHash: issued.hash, scopes: normalizeScopes(scopes) },
    select: { id: true, name: true, prefix: true, scopes: true, createdAt: true },
  });
  return { ...row, key: issued.key };
}

export interface AuthContext {
  clinicId: string;
  apiKeyId: string;
  timeZone: string;
  /** What the key may do (scopes.ts); each route checks the one it declares. */
  scopes: string[];
}

/**
 * Resolves a bearer key to its clinic. Unknown, malformed and revoked keys get the same answer,
 * and the hash comparison runs in constant time.
 */
export async function authenticateKey(db: Pick<Db, 'apiKey'>, key: string | undefined): Promise<AuthContext> {
  const match = key ? KEY_PATTERN.exec(key) : null;
  if (!key || !match) throw new UnauthorizedError('Missing or invalid API key');
  const row = await db.apiKey.findUnique({
    where: { prefix: match[1]! },
    select: { id: true, clinicId: true, keyHash: true, revokedAt: true, scopes: true, clinic: { select: { timeZone: true } } },
  });
  const expected = Buffer.from(row?.keyHash ?? '0'.repeat(64), 'hex');
  const ok = timingSafeEqual(expected, Buffer.from(sha256(key), 'hex'));
  if (!row || !ok || row.revokedAt) throw new UnauthorizedError('Missing or invalid API key');
  return { clinicId: row.clinicId, apiKeyId: row.id, timeZone: row.clinic.timeZone, scopes: row.scopes };
}

/** authenticateKey on the container's database, for the HTTP edge, which holds no handle of its own. */
export async function authenticateApiKey(key: string | undefined): Promise<AuthContext> {
  return authenticateKey(await getDb(), key);
}

/** How stale `last_used_at` may be: a key used all day costs one write a minute per container, not one per request. */
export const KEY_USE_RESOLUTION_MS = 60_000;

const stampedAt = new Map<string, number>();

/**
 * Writes a key's `last_used_at` (which keys are still in use, which to revoke), at most once per
 * minute per key in this container; the statement itself skips a row stamped in the last minute
 * by another container. Never fails the request it describes: an error is logged and the next
 * use tries again. Callers start it beside their own work and await it before answering, so it
 * adds no round trip of its own.
 */
export async function stampKeyUse(apiKeyId: string, now = Date.now()): Promise<void> {
  const last = stampedAt.get(apiKeyId);
  if (last !== undefined && now - last < KEY_USE_RESOLUTION_MS) return;
  stampedAt.set(apiKeyId, now);
  try {
    const db = await getDb();
    await db.$executeRaw`
      UPDATE api_keys SET last_used_at = now()
       WHERE id = ${apiKeyId}::uuid AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => ${KEY_USE_RESOLUTION_MS / 1000}))`;
  } catch (err) {
    stampedAt.delete(apiKeyId);
    logger.warn('api_key.stamp_failed', { apiKeyId, error: (err as Error).name });
  }
}
