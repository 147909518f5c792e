import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { isSealed, open, parseSealed, seal, SealedValueError, SEALED_PREFIX } from '../../lib/platform/crypto/sealed-value';

/** The stored form of encrypted fields: format, AES-256-GCM round trips, and refusal of anything altered. */

const key = randomBytes(32);
const keyId = randomUUID();
const text = fc.string({ unit: 'binary', maxLength: 300 }); // any code points, lone surrogates excluded

/** Flips one bit of one base64url part of a sealed value, keeping it well-formed. */
function flip(value: string, part: 'iv' | 'body', byte: number, bit: number): string {
  const [prefix, v, id, iv, body] = value.split(':') as [string, string, string, string, string];
  const bytes = Buffer.from(part === 'iv' ? iv : body, 'base64url');
  bytes[byte % bytes.length]! ^= 1 << bit;
  const changed = bytes.toString('base64url');
  return [prefix, v, id, part === 'iv' ? changed : iv, part === 'body' ? changed : body].join(':');
}

it('round-trips any text, with a fresh IV each time', () => {
  fc.assert(
    fc.property(text, (plain) => {
      const a = seal(plain, keyId, key);
      const b = seal(plain, keyId, key);
      expect(a).not.toBe(b);
      expect(a.startsWith(`${SEALED_PREFIX}${keyId}:`)).toBe(true);
      expect(isSealed(a)).toBe(true);
      expect(open(parseSealed(a), key)).toBe(plain);
      if (plain.length >= 4) expect(a).not.toContain(plain);
    }),
  );
});

it('refuses a value with any bit of its IV, ciphertext or tag changed', () => {
  fc.assert(
    fc.property(text, fc.constantFrom('iv' as const, 'body' as const), fc.nat(), fc.integer({ min: 0, max: 7 }), (plain, part, byte, bit) => {
      const tampered = flip(seal(plain, keyId, key), part, byte, bit);
      expect(() => open(parseSealed(tampered), key)).toThrow(SealedValueError);
    }),
  );
});

it('refuses the wrong key, and a value pointed at another key id (the header is authenticated)', () => {
  fc.assert(
    fc.property(text, (plain) => {
      const sealed = seal(plain, keyId, key);
      expect(() => open(parseSealed(sealed), randomBytes(32))).toThrow(/authentication failed/);
      const moved = sealed.replace(keyId, randomUUID());
      expect(() => open(parseSealed(moved), key)).toThrow(SealedValueError);
    }),
    { numRuns: 50 },
  );
});

it('parses only its own format, and names no value in its errors', () => {
  const good = seal('maria@example.com', keyId, key);
  for (const bad of ['maria@example.com', 'enc:v1:', `enc:v1:${keyId}`, `enc:v1:${keyId}:AAAA`, `enc:v1:not-a-key:${good.split(':').slice(3).join(':')}`, `${good}:x`, `enc:v1:${keyId}:AAAAAAAAAAAAAAAA:AAAA`, good.replace(/:([^:]+)$/, ':+/+/')]) {
    expect(() => parseSealed(bad)).toThrow(SealedValueError);
    try {
      parseSealed(bad);
    } catch (err) {
      expect((err as Error).message).not.toContain('maria');
    }
  }
  expect(isSealed('enc:v2:whatever')).toBe(false);
  expect(isSealed('+5511912345678')).toBe(false);
});
