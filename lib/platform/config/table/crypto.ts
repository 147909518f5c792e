import { z } from 'zod';
import { env, none, secret } from '../variable';
import { anyUrl } from '../parsers';

/** A well-known key, so dev and tests run without setting one; production refuses it (KMS is required there). */
export const DEVELOPMENT_DATA_KEY_ENCRYPTION_KEY = 'ZGV2ZWxvcG1lbnQta2V5LWZvci1hZ2VuZGEtb25seSE=';

/** 32 bytes in base64: an AES-256 key. */
const aes256Key = z
  .string()
  .refine((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length === 32, {
    error: 'expected 32 random bytes in base64 (openssl rand -base64 32)',
  });

/**
 * Encryption at rest (lib/platform/crypto): what wraps the data keys stored in `data_keys`. AWS KMS
 * when KMS_KEY_ID is set, else the local key (development and tests only).
 */
export const CRYPTO = {
  dataKeyEncryptionKey: secret(env('DATA_KEY_ENCRYPTION_KEY', aes256Key, DEVELOPMENT_DATA_KEY_ENCRYPTION_KEY,
    'Wraps the data keys when KMS_KEY_ID is unset (development and tests), and unwraps keys a local setup wrapped.')),
  kmsKeyId: env('KMS_KEY_ID', z.string().min(1), none,
    'The AWS KMS key (id, ARN or alias) that wraps new data keys; required in production.'),
  kmsEndpoint: env('KMS_ENDPOINT', anyUrl, none,
    'KMS API endpoint, for a local stand-in; unset: AWS.'),
};
