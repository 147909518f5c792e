import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The stored form of an encrypted field: `enc:v1:<dataKeyId>:<iv>:<ciphertext+tag>` (base64url).
 * The data key's id travels with the value, so values written before a key rotation keep decrypting;
 * the version lets a later format live beside this one. AES-256-GCM, 96-bit random IV; the header
 * (`enc:v1:<dataKeyId>`) is the additional authenticated data, so a value cannot be pointed at
 * another key without failing authentication.
 */
export const SEALED_PREFIX = 'enc:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A value parsed from its stored form (nothing decrypted yet). */
export interface SealedParts {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Why a stored value could not be opened; never carries the value or a key. */
export class SealedValueError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SealedValueError';
  }
}

/** Values without the prefix are plaintext written before encryption (read as is until backfilled). */
export const isSealed = (value: string) => value.startsWith(SEALED_PREFIX);

const aad = (keyId: string) => Buffer.from(`${SEALED_PREFIX}${keyId}`, 'utf8');

/** Encrypts one value under a 32-byte data key. */
export function seal(plaintext: string, keyId: string, key: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES }).setAAD(aad(keyId));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${SEALED_PREFIX}${keyId}:${iv.toString('base64url')}:${body.toString('base64url')}`;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Splits a stored value into its parts, refusing any malformed one. */
export function parseSealed(value: string): SealedParts {
  if (!isSealed(value)) throw new SealedValueError('not an encrypted value');
  const parts = value.slice(SEALED_PREFIX.length).split(':');
  if (parts.length !== 3) throw new SealedValueError('malformed encrypted value');
  const [keyId, ivText, bodyText] = parts as [string, string, string];
  if (!/^[0-9a-f-]{36}$/.test(keyId) || !B64URL.test(ivText) || !B64URL.test(bodyText)) throw new SealedValueError('malformed encrypted value');
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SealedValueError('malformed encrypted value');
  return { keyId, iv, ciphertext: body.subarray(0, body.length - TAG_BYTES), tag: body.subarray(body.length - TAG_BYTES) };
}

/** Decrypts parsed parts with their data key; a changed byte or a wrong key fails authentication. */
export function open(parts: SealedParts, key: Buffer): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES }).setAAD(aad(parts.keyId));
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedValueError('authentication failed (wrong key or altered value)');
  }
}
