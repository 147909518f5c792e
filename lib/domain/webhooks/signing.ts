import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** The secrets an endpoint signs with: a rotated-out one keeps signing until it expires. */
export interface SigningSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/**
 * A Standard Webhooks secret (`whsec_` and 32 random bytes in base64), so receivers can verify with
 * any Standard Webhooks library as is.
 */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The `webhook-signature` header: `v1,<sig>` with the current secret and, during the grace period
 * after a rotation, a second one with the previous secret, space-separated (Standard Webhooks):
 * a receiver still holding either secret verifies the delivery.
 */
export function signatureHeader(endpoint: SigningSecrets, msgId: string, timestamp: Date, body: string, now = new Date()): string {
  const sigs = [new Webhook(endpoint.secret).sign(msgId, timestamp, body)];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    sigs.push(new Webhook(endpoint.previousSecret).sign(msgId, timestamp, body));
  }
  return sigs.join(' ');
}

/**
 * The three Standard Webhooks headers of one attempt. The id is the delivery's, the same on every
 * retry, so a receiver can deduplicate; the timestamp is the attempt's, so it can refuse replays.
 */
export function signedHeaders(endpoint: SigningSecrets, deliveryId: string, timestamp: Date, body: string): Record<string, string> {
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatureHeader(endpoint, deliveryId, timestamp, body),
  };
}
