import { createHash } from 'node:crypto';
import { ValidationError } from '../../platform/errors/app-error';
import { assertSafeJson, canonicalJson, readRawBody } from '../body';
import { header } from '../credentials';
import type { HttpEvent } from '../types';

/** `Idempotency-Key`: 1 to 255 printable ASCII characters. */
const KEY_FORMAT = /^[\x20-\x7E]{1,255}$/;

/**
 * What a key is bound to when first used: a retry must repeat the method, the path and the body
 * (by meaning, see hashBody), or it is another request reusing the key.
 */
export interface IdempotentRequest {
  clinicId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
}

/**
 * The idempotent request this event is, or undefined when idempotency does not apply (not a POST,
 * or no `Idempotency-Key` header). A malformed key is a 400; an oversize body a 413, before any
 * claim is made.
 */
export function idempotentRequest(event: HttpEvent, clinicId: string): IdempotentRequest | undefined {
  const method = (event.requestContext?.http?.method ?? '').toUpperCase();
  const key = header(event, 'idempotency-key');
  if (method !== 'POST' || key === undefined) return undefined;
  if (!KEY_FORMAT.test(key)) {
    throw new ValidationError('Invalid Idempotency-Key header', [
      { field: 'Idempotency-Key', problem: 'must be 1 to 255 printable ASCII characters' },
    ]);
  }
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
  return { clinicId, key, method, path, requestHash: hashBody(readRawBody(event)) };
}

/**
 * SHA-256 of the body's canonical JSON, so that a retry serialised by another client library (other
 * key order, other spacing) is still the same request. A body that is not JSON a route would accept
 * is hashed as raw text: the route answers 400, and that answer is what replays.
 */
export function hashBody(raw: string): string {
  let text: string;
  if (raw.trim() === '') {
    text = 'empty:';
  } else {
    try {
      const value: unknown = JSON.parse(raw);
      assertSafeJson(value); // bounds the nesting canonicalJson recurses through
      text = `json:${canonicalJson(value)}`;
    } catch {
      text = `raw:${raw}`;
    }
  }
  return createHash('sha256').update(text).digest('hex');
}
