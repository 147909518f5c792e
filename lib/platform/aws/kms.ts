import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { getConfig } from '../config';

let client: KMSClient | undefined;

/**
 * The container's one KMS client. It is called once per data key per container (lib/platform/crypto
 * keeps the unwrapped keys in memory), never per field. Three attempts (the SDK's standard retry backs
 * off throttling and 5xx) and bounded timeouts, so a cold start never waits out API Gateway's 29 s.
 * KMS_ENDPOINT points it at a local stand-in.
 */
function kms(): KMSClient {
  if (!client) {
    const { aws, crypto } = getConfig();
    client = new KMSClient({
      region: aws.region,
      ...(crypto.kmsEndpoint ? { endpoint: crypto.kmsEndpoint } : {}),
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
    });
  }
  return client;
}

/** KMS's encryption context: a wrapped key only unwraps for the purpose it was made for. */
type Context = Record<string, string>;

const bytes = (b: Uint8Array | undefined, what: string): Buffer => {
  if (!b) throw new Error(`KMS answered without ${what}`);
  return Buffer.from(b);
};

/** A new 256-bit data key: its plaintext and its copy wrapped by `keyId`, and the key's ARN. */
export async function kmsGenerateDataKey(keyId: string, context: Context) {
  const out = await kms().send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
  return { plaintext: bytes(out.Plaintext, 'Plaintext'), wrapped: bytes(out.CiphertextBlob, 'CiphertextBlob'), keyArn: out.KeyId ?? keyId };
}

/** Unwraps a data key wrapped by `keyId` (checked by KMS) under the same context. */
export async function kmsDecrypt(keyId: string, wrapped: Buffer, context: Context): Promise<Buffer> {
  const out = await kms().send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: context }));
  return bytes(out.Plaintext, 'Plaintext');
}

/** Wraps an existing data key with `keyId` (re-wrapping after a change of KMS key). */
export async function kmsEncrypt(keyId: string, plaintext: Buffer, context: Context) {
  const out = await kms().send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context }));
  return { wrapped: bytes(out.CiphertextBlob, 'CiphertextBlob'), keyArn: out.KeyId ?? keyId };
}

/** Destroys the client's sockets. Only lib/platform/lifecycle calls this. */
export function closeKmsClient(): void {
  client?.destroy();
  client = undefined;
}
