import type { z } from 'zod';
import { getConfig } from '../platform/config';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../platform/errors/app-error';
import { validate } from '../platform/validation/validate';
import { header } from './credentials';
import type { HttpEvent } from './types';

/** Objects and arrays nested deeper than this are refused (400) instead of risking the stack. */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;


/**
 * The request body as text: base64 decoded when API Gateway encoded it, refused with 413 when it
 * is larger than BODY_MAX_BYTES (checked before decoding) and with 400 when it is not UTF-8.
 * An absent body is `''`.
 */
export function readRawBody(event: { body?: string; isBase64Encoded?: boolean }, maxBytes = getConfig().http.bodyMaxBytes): string {
  const body = event.body ?? '';
  if (body === '') return '';
  const tooLarge = () =>
    new PayloadTooLargeError(`Request body larger than ${maxBytes} bytes`, { maxBytes });
  if (!event.isBase64Encoded) {
    // Cheap bound first: a UTF-8 byte count is at most 3x the UTF-16 length.
    if (body.length > maxBytes || Buffer.byteLength(body, 'utf8') > maxBytes) throw tooLarge();
    return body;
  }
  if (Math.floor((body.length * 3) / 4) - 2 > maxBytes) throw tooLarge();
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length > maxBytes) throw tooLarge();
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ValidationError('Request body is not valid UTF-8', [{ field: 'body', problem: 'not valid UTF-8' }]);
  }
}

/** True for `application/json` and `application/<anything>+json`, parameters (charset) allowed. */
export function isJsonContentType(value: string): boolean {
  const type = value.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** Formats a JSON path the way lib/platform/validation/validate.ts names fields (`items.0.name`; root: `body`). */
const fieldName = (path: (string | number)[]) => (path.length > 0 ? path.join('.') : 'body');

/**
 * Refuses strings PostgreSQL and downstream JSON consumers cannot take: a NUL character (text
 * columns reject it) or a lone UTF-16 surrogate (not encodable as UTF-8), in any value or key,
 * however deep, and nesting deeper than MAX_JSON_DEPTH. Iterative, so no input can overflow the
 * stack. Throws a 400 naming the field path of every problem found (at most 20).
 */
export function assertSafeJson(value: unknown): void {
  const problems: { field: string; problem: string }[] = [];
  const checkString = (s: string, path: (string | number)[]) => {
    if (s.includes('\u0000')) problems.push({ field: fieldName(path), problem: 'must not contain NUL characters' });
    if (LONE_SURROGATE.test(s)) problems.push({ field: fieldName(path), problem: 'must not contain lone UTF-16 surrogates' });
  };
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0 && problems.length < 20) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      checkString(v, path);
    } else if (v !== null && typeof v === 'object') {
      if (path.length >= MAX_JSON_DEPTH) {
        problems.push({ field: fieldName(path), problem: `nested deeper than ${MAX_JSON_DEPTH} levels` });
        continue;
      }
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i -= 1) stack.push({ value: v[i], path: [...path, i] });
      } else {
        const entries = Object.entries(v as Record<string, unknown>);
        for (let i = entries.length - 1; i >= 0; i -= 1) {
          const [k, child] = entries[i]!;
          checkString(k, [...path, k]);
          stack.push({ value: child, path: [...path, k] });
        }
      }
    }
  }
  if (problems.length > 0) throw new ValidationError('Invalid body', problems);
}

export interface ParseJsonOptions {
  /**
   * `object` (default): the body must be a JSON object; an array, a string, a number or null is a
   * 400 before the schema runs. `any`: any JSON value, left to the schema.
   */
  expect?: 'object' | 'any';
}

/**
 * Reads a JSON body: size bound (413), content type (415 when one is given and it is not JSON),
 * well-formed JSON (400), no NUL characters or lone surrogates anywhere (400 naming the field), an
 * object unless told otherwise (400); then validates it with the schema (400 naming each field).
 * An absent or empty body is read as `{}` so that all-optional schemas accept it.
 */
export function parseJsonBody<S extends z.ZodType>(event: HttpEvent, schema: S, options: ParseJsonOptions = {}): z.infer<S> {
  return validate(schema, readJsonBody(event, options));
}

/** parseJsonBody without the schema: the checked JSON value. */
export function readJsonBody(event: HttpEvent, { expect = 'object' }: ParseJsonOptions = {}): unknown {
  const raw = readRawBody(event);
  if (raw === '') return {};
  const contentType = header(event, 'content-type');
  if (contentType !== undefined && !isJsonContentType(contentType)) {
    throw new UnsupportedMediaTypeError('Request body must be JSON (Content-Type: application/json)', {
      contentType: contentType.slice(0, 100),
    });
  }
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch (err) {
    throw new ValidationError('Malformed JSON body', [{ field: 'body', problem: (err as Error).message }]);
  }
  assertSafeJson(input);
  if (expect === 'object' && (input === null || typeof input !== 'object' || Array.isArray(input))) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input;
    throw new ValidationError('Invalid body', [{ field: 'body', problem: `expected a JSON object, got ${got}` }]);
  }
  return input;
}

/**
 * A canonical text for a JSON value: object keys sorted at every level, no whitespace. Two bodies
 * that mean the same (keys in another order, other spacing) give the same text; used to hash
 * requests for idempotency.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}
