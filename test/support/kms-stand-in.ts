import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { reply, startAwsJsonServer, type AwsReply } from './aws-json-server';


export interface KmsStandIn {
  /** The endpoint for KMS_ENDPOINT. */
  url: string;
  /** Every request, in order: `<operation> <key ARN>`. */
  requests: string[];
  /** The ARN a key id answers as. */
  arnOf(keyId: string): string;
  close(): Promise<void>;
}

interface Input {
  KeyId?: string;
  KeySpec?: string;
  Plaintext?: string;
  CiphertextBlob?: string;
  EncryptionContext?: Record<string, string>;
}

const ACCOUNT = 'arn:aws:kms:us-east-1:123456789012:key/';
const contextBytes = (c: Record<string, string> = {}) =>
  Buffer.from(JSON.stringify(Object.keys(c).sort().map((k) => [k, c[k]])));

/**
 * A local HTTP server speaking the three KMS operations envelope encryption uses, in KMS's JSON 1.1
 * protocol (POST /, `X-Amz-Target: TrentService.<op>`, blobs as base64, errors as `{"__type"}` with
 * HTTP 400). Each key id gets its own random master key; a ciphertext blob carries the key's ARN
 * and is AES-GCM under it with the encryption context authenticated, so Decrypt with another key or
 * another context fails as KMS does. No signature is checked.
 */
export async function startKmsStandIn(): Promise<KmsStandIn> {
  const masters = new Map<string, Buffer>();
  const requests: string[] = [];
  const arnOf = (keyId: string) => (keyId.startsWith('arn:') ? keyId : `${ACCOUNT}${keyId}`);
  const master = (arn: string) => masters.get(arn) ?? masters.set(arn, randomBytes(32)).get(arn)!;

  const wrap = (arn: string, plaintext: Buffer, context?: Record<string, string>) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master(arn), iv).setAAD(contextBytes(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const arnBytes = Buffer.from(arn);
    return Buffer.concat([Buffer.from([arnBytes.length]), arnBytes, iv, cipher.getAuthTag(), body]).toString('base64');
  };
  const unwrap = (blob: Buffer, context?: Record<string, string>) => {
    const arn = blob.subarray(1, 1 + blob[0]!).toString();
    const rest = blob.subarray(1 + blob[0]!);
    const decipher = createDecipheriv('aes-256-gcm', master(arn), rest.subarray(0, 12)).setAAD(contextBytes(context));
    decipher.setAuthTag(rest.subarray(12, 28));
    return { arn, plaintext: Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]) };
  };

  const handle = (target: string | undefined, body: Record<string, unknown>): AwsReply => {
    const input = body as Input;
    const arn = arnOf(input.KeyId ?? '');
    requests.push(`${target} ${arn}`);
    if (target === 'TrentService.GenerateDataKey') {
      const plaintext = randomBytes(input.KeySpec === 'AES_128' ? 16 : 32);
      return reply(200, { KeyId: arn, Plaintext: plaintext.toString('base64'), CiphertextBlob: wrap(arn, plaintext, input.EncryptionContext) });
    }
    if (target === 'TrentService.Encrypt') {
      return reply(200, { KeyId: arn, CiphertextBlob: wrap(arn, Buffer.from(input.Plaintext ?? '', 'base64'), input.EncryptionContext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    }
    if (target === 'TrentService.Decrypt') {
      try {
        const out = unwrap(Buffer.from(input.CiphertextBlob ?? '', 'base64'), input.EncryptionContext);
        if (input.KeyId && out.arn !== arn) return reply(400, { __type: 'IncorrectKeyException', message: 'The key ID in the request does not identify the key that encrypted the ciphertext' });
        return reply(200, { KeyId: out.arn, Plaintext: out.plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      } catch {
        return reply(400, { __type: 'InvalidCiphertextException', message: '' });
      }
    }
    return reply(400, { __type: 'UnknownOperationException', message: `no operation ${target}` });
  };

  const server = await startAwsJsonServer(handle);
  return {
    url: server.url,
    requests,
    arnOf,
    close: () => server.close(),
  };
}
