import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { getConfig } from '../config';

/** What a data key is for: sealing fields, or keying the e-mail lookup hash. */
export type KeyPurpose = 'data' | 'hash';

/** A data key as made: its plaintext (kept in memory only), its wrapped copy, and who wrapped it. */
export interface WrappedKey {
  plaintext: Buffer;
  wrapped: Buffer;
  wrappingKeyId: string;
}

/**
 * What wraps data keys. `wrappingKeyId` is stored beside each wrapped key (`local:<fingerprint>` or
 * the KMS key's ARN), so a key is always unwrapped by what wrapped it, whatever is configured now.
 */
export interface KeyWrapper {
  readonly id: string;
  generate(purpose: KeyPurpose): Promise<WrappedKey>;
  wrap(plaintext: Buffer, purpose: KeyPurpose): Promise<WrappedKey>;
}

const LOCAL = 'local:';
const context = (purpose: KeyPurpose) => ({ 'agenda:key-purpose': purpose });

/** Names a local key without revealing it, so a wrong DATA_KEY_ENCRYPTION_KEY is reported as such. */
const fingerprint = (kek: Buffer) => `${LOCAL}${createHash('sha256').update('agenda-kek:').update(kek).digest('hex').slice(0, 16)}`;

const localKek = () => Buffer.from(getConfig().crypto.dataKeyEncryptionKey, 'base64');

/** AES-256-GCM under the configured key; the purpose is authenticated, iv|tag|ciphertext stored. */
function localWrap(kek: Buffer, plaintext: Buffer, purpose: KeyPurpose): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv).setAAD(Buffer.from(purpose));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function localUnwrap(kek: Buffer, wrapped: Buffer, purpose: KeyPurpose): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12)).setAAD(Buffer.from(purpose));
  decipher.setAuthTag(wrapped.subarray(12, 28));
  return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
}

function localWrapper(): KeyWrapper {
  const kek = localKek();
  const id = fingerprint(kek);
  const wrap = async (plaintext: Buffer, purpose: KeyPurpose) => ({ plaintext, wrapped: localWrap(kek, plaintext, purpose), wrappingKeyId: id });
  return { id, wrap, generate: (purpose) => wrap(randomBytes(32), purpose) };
}

function kmsWrapper(keyId: string): KeyWrapper {
  return {
    id: keyId,
    async generate(purpose) {
      const { kmsGenerateDataKey } = await import('../aws/kms');
      const out = await kmsGenerateDataKey(keyId, context(purpose));
      return { plaintext: out.plaintext, wrapped: out.wrapped, wrappingKeyId: out.keyArn };
    },
    async wrap(plaintext, purpose) {
      const { kmsEncrypt } = await import('../aws/kms');
      const out = await kmsEncrypt(keyId, plaintext, context(purpose));
      return { plaintext, wrapped: out.wrapped, wrappingKeyId: out.keyArn };
    },
  };
}

/** What wraps new data keys: KMS when KMS_KEY_ID is set, else the local key. */
export function currentWrapper(): KeyWrapper {
  const { kmsKeyId } = getConfig().crypto;
  return kmsKeyId ? kmsWrapper(kmsKeyId) : localWrapper();
}

/** Unwraps a stored key with what wrapped it: the local key (checked by fingerprint) or KMS. */
export async function unwrapKey(wrapped: Buffer, wrappingKeyId: string, purpose: KeyPurpose): Promise<Buffer> {
  if (wrappingKeyId.startsWith(LOCAL)) {
    const kek = localKek();
    if (fingerprint(kek) !== wrappingKeyId) {
      throw new Error(`wrapped by ${wrappingKeyId}, but DATA_KEY_ENCRYPTION_KEY is ${fingerprint(kek)}`);
    }
    return localUnwrap(kek, wrapped, purpose);
  }
  const { kmsDecrypt } = await import('../aws/kms');
  return kmsDecrypt(wrappingKeyId, wrapped, context(purpose));
}
