import { createHmac } from 'node:crypto';
import type { Pool } from 'pg';
import { logger } from '../observability/logger';
import { currentWrapper, unwrapKey, type KeyPurpose, type WrappedKey } from './key-wrappers';
import { isSealed, open, parseSealed, seal, SealedValueError } from './sealed-value';

/** How long a container trusts its idea of the active key before asking the table again (after a rotation). */
const ACTIVE_TTL_MS = 5 * 60_000;

type KeyRow = {
  id: string;
  purpose: KeyPurpose;
  wrapped_key: Buffer;
  wrapping_key_id: string;
};
interface ActiveKey {
  id: string;
  key: Buffer;
}

/**
 * The container's data keys. Each is unwrapped once (one KMS call per key per container) and kept in
 * memory; the active one seals new values. The table is read on the pool directly, not through
 * Prisma, so the Prisma extension that uses the keyring does not call itself; on a cold container
 * that first meets an encrypted field inside a transaction this takes a second connection once.
 */
export class Keyring {
  private readonly keys = new Map<string, Promise<Buffer>>();
  private readonly active = new Map<KeyPurpose, { at: number; key: Promise<ActiveKey> }>();

  constructor(readonly pool: Pool) {}

  /** Seals a value under the active data key. */
  async seal(plaintext: string): Promise<string> {
    const { id, key } = await this.activeKey('data');
    return seal(plaintext, id, key);
  }

  /** Opens a sealed value; a value without the prefix is plaintext not yet backfilled, returned as is. */
  async open(value: string): Promise<string> {
    if (!isSealed(value)) return value;
    const parts = parseSealed(value);
    return open(parts, await this.key(parts.keyId, 'data'));
  }

  /** The e-mail lookup hash: `<hashKeyId>:<HMAC-SHA256 of the trimmed, lower-cased address>`. */
  async hashEmail(email: string): Promise<string> {
    const { id, key } = await this.activeKey('hash');
    return `${id}:${createHmac('sha256', key).update(email.trim().toLowerCase()).digest('base64url')}`;
  }

  /** A data key by id, unwrapped once per container. */
  key(id: string, purpose: KeyPurpose): Promise<Buffer> {
    let key = this.keys.get(id);
    if (!key) {
      key = this.load(id, purpose);
      this.keys.set(id, key);
      key.catch(() => this.keys.delete(id)); // a failed unwrap is tried again by the next caller
    }
    return key;
  }

  /** The key new values use, its id re-read from the table every few minutes. */
  activeKey(purpose: KeyPurpose): Promise<ActiveKey> {
    const cached = this.active.get(purpose);
    if (cached && Date.now() - cached.at < ACTIVE_TTL_MS) return cached.key;
    const key = this.findOrCreateActive(purpose);
    this.active.set(purpose, { at: Date.now(), key });
    key.catch(() => this.active.delete(purpose));
    return key;
  }

  /** Drops the cached idea of the active key, so the next seal reads the table (after a rotation here). */
  forgetActive(): void {
    this.active.clear();
  }

  private async load(id: string, purpose: KeyPurpose): Promise<Buffer> {
    const { rows } = await this.pool.query<KeyRow>('SELECT id::text, purpose, wrapped_key, wrapping_key_id FROM data_keys WHERE id = $1::uuid', [id]);
    const row = rows[0];
    if (!row || row.purpose !== purpose) throw new SealedValueError(`unknown ${purpose} key ${id}`);
    try {
      const key = await unwrapKey(row.wrapped_key, row.wrapping_key_id, purpose);
      logger.info('crypto.data_key.unwrapped', { keyId: id, purpose, wrappingKeyId: row.wrapping_key_id });
      return key;
    } catch (err) {
      throw new SealedValueError(`data key ${id} could not be unwrapped: ${(err as Error).message}`);
    }
  }

  private async findOrCreateActive(purpose: KeyPurpose): Promise<ActiveKey> {
    const found = await this.activeRow(purpose);
    if (found) return { id: found, key: await this.key(found, purpose) };
    const made = await currentWrapper().generate(purpose);
    // Two containers may race to make the first key: the unique partial index keeps one.
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO data_keys (purpose, wrapped_key, wrapping_key_id, active) VALUES ($1, $2, $3, true)
       ON CONFLICT (purpose) WHERE active DO NOTHING RETURNING id::text`,
      [purpose, made.wrapped, made.wrappingKeyId],
    );
    if (rows[0]) return this.remember(rows[0].id, made, purpose);
    const winner = await this.activeRow(purpose);
    if (!winner) throw new Error(`no active ${purpose} key after creating one`);
    return { id: winner, key: await this.key(winner, purpose) };
  }

  private async activeRow(purpose: KeyPurpose): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id::text FROM data_keys WHERE purpose = $1 AND active', [purpose]);
    return rows[0]?.id;
  }

  /** A key this container made needs no unwrapping. */
  remember(id: string, made: WrappedKey, purpose: KeyPurpose): ActiveKey {
    this.keys.set(id, Promise.resolve(made.plaintext));
    logger.info('crypto.data_key.created', { keyId: id, purpose, wrappingKeyId: made.wrappingKeyId });
    return { id, key: made.plaintext };
  }
}

let current: Keyring | undefined;

/** The container's keyring over its pool (a new pool, after the database was closed, gets a new one). */
export function getKeyring(pool: Pool): Keyring {
  if (current?.pool !== pool) current = new Keyring(pool);
  return current;
}
