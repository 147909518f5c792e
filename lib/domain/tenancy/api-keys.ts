import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { getDb, type Db } from '../../platform/db/client';
import { UnauthorizedError } from '../../platform/errors/app-error';
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
