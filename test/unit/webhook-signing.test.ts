import fc from 'fast-check';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { newWebhookSecret, signatureHeader, signedHeaders, type SigningSecrets } from '../../lib/domain/webhooks/signing';

/**
 * Deliveries are signed so that a receiver using any Standard Webhooks library can check them: these
 * tests verify with that library's own Webhook class, not with our signing code.
 */

const HOUR = 3_600_000;
const deliveryId = '0b7f3c2e-8d4a-4f6b-9c1e-2a5d7e9f0a1b';
const only = (secret: string): SigningSecrets => ({ secret, previousSecret: null, previousSecretExpiresAt: null });
const verify = (secret: string, body: string, headers: Record<string, string>) => new Webhook(secret).verify(body, headers);

describe('webhook signing', () => {
  it('makes secrets the standardwebhooks library accepts: whsec_ and 32 random bytes', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(() => new Webhook(a)).not.toThrow();
    expect(newWebhookSecret()).not.toBe(a);
  });

  it('sends the delivery id, the attempt time in seconds and a v1 signature', () => {
    const secret = newWebhookSecret();
    const at = new Date('2026-05-04T12:34:56.789Z');
    const headers = signedHeaders(only(secret), deliveryId, at, '{}');
    expect(headers).toEqual({
      'webhook-id': deliveryId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/),
    });
    expect(headers['webhook-signature']).toBe(signatureHeader(only(secret), deliveryId, at, '{}'));
  });

  it('verifies with the receiver library for any JSON body, and fails for any other body', () => {
    const secret = newWebhookSecret();
    fc.assert(
      fc.property(fc.json(), fc.json(), (body, other) => {
        const headers = signedHeaders(only(secret), deliveryId, new Date(), body);
        expect(verify(secret, body, headers)).toEqual(JSON.parse(body));
        if (other !== body) expect(() => verify(secret, other, headers)).toThrow(WebhookVerificationError);
      }),
      { numRuns: 200 },
    );
  });

  it('fails for a body changed by a single character', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: 'appointment.created', timestamp: '2026-05-04T12:00:00.000Z', data: { id: deliveryId } });
    const headers = signedHeaders(only(secret), deliveryId, new Date(), body);
    expect(() => verify(secret, body, headers)).not.toThrow();
    expect(() => verify(secret, body.replace('created', 'creates'), headers)).toThrow(WebhookVerificationError);
    expect(() => verify(secret, `${body} `, headers)).toThrow(WebhookVerificationError);
  });

  it('fails for another secret, another delivery id, or an old timestamp', () => {
    const secret = newWebhookSecret();
    const body = '{"type":"webhook.ping"}';
    const headers = signedHeaders(only(secret), deliveryId, new Date(), body);
    expect(() => verify(newWebhookSecret(), body, headers)).toThrow(WebhookVerificationError);
    expect(() => verify(secret, body, { ...headers, 'webhook-id': `${deliveryId.slice(0, -1)}c` })).toThrow(WebhookVerificationError);
    const replayed = signedHeaders(only(secret), deliveryId, new Date(Date.now() - 10 * 60_000), body);
    expect(() => verify(secret, body, replayed)).toThrow(/too old/);
  });

  it('signs with both secrets during the grace period after a rotation, and with the new one only after it', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const body = '{"type":"webhook.ping"}';
    const now = new Date();
    const inGrace = { secret: current, previousSecret: previous, previousSecretExpiresAt: new Date(now.getTime() + HOUR) };
    const both = signedHeaders(inGrace, deliveryId, now, body);
    expect(both['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => verify(current, body, both)).not.toThrow();
    expect(() => verify(previous, body, both)).not.toThrow();

    const expired = { ...inGrace, previousSecretExpiresAt: new Date(now.getTime() - 1) };
    const one = signedHeaders(expired, deliveryId, now, body);
    expect(one['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => verify(current, body, one)).not.toThrow();
    expect(() => verify(previous, body, one)).toThrow(WebhookVerificationError);
  });
});
