import { logger } from '../observability/logger';
import { currentWrapper, unwrapKey, type KeyPurpose } from './key-wrappers';
import type { Keyring } from './keyring';

/**
 * Makes a new active key of a purpose and retires the old one (kept: values sealed under it still
 * open until the re-encryption pass has moved them). Containers pick the new key up within minutes
 * (lib/platform/crypto/keyring.ts); the pass (./reencrypt) moves what they wrote meanwhile too.
 */
export async function rotateKey(ring: Keyring, purpose: KeyPurpose): Promise<string> {
  const made = await currentWrapper().generate(purpose);
  const client = await ring.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('UPDATE data_keys SET active = false WHERE purpose = $1 AND active', [purpose]);
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO data_keys (purpose, wrapped_key, wrapping_key_id, active) VALUES ($1, $2, $3, true) RETURNING id::text',
      [purpose, made.wrapped, made.wrappingKeyId],
    );
    await client.query('COMMIT');
    const id = rows[0]!.id;
    ring.forgetActive();
    ring.remember(id, made, purpose);
    return id;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Re-wraps every data key not wrapped by the configured wrapper (a new KMS key, or local to KMS):
 * unwrapped by what wrapped it, wrapped again, stored. No field changes: the data keys are the same.
 * Returns how many were re-wrapped.
 */
export async function rewrapKeys(ring: Keyring): Promise<number> {
  const wrapper = currentWrapper();
  const { rows } = await ring.pool.query<{ id: string; purpose: KeyPurpose; wrapped_key: Buffer; wrapping_key_id: string }>(
    'SELECT id::text, purpose, wrapped_key, wrapping_key_id FROM data_keys ORDER BY created_at',
  );
  let done = 0;
  for (const row of rows) {
    if (row.wrapping_key_id === wrapper.id) continue;
    const plaintext = await unwrapKey(row.wrapped_key, row.wrapping_key_id, row.purpose);
    const again = await wrapper.wrap(plaintext, row.purpose);
    if (again.wrappingKeyId === row.wrapping_key_id) continue; // an alias of the same KMS key
    await ring.pool.query('UPDATE data_keys SET wrapped_key = $2, wrapping_key_id = $3 WHERE id = $1::uuid', [row.id, again.wrapped, again.wrappingKeyId]);
    logger.info('crypto.data_key.rewrapped', { keyId: row.id, from: row.wrapping_key_id, to: again.wrappingKeyId });
    done += 1;
  }
  return done;
}
