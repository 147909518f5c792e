import { z } from 'zod';
import { AppError } from '../../lib/platform/errors/app-error';
import { describeError } from '../../lib/platform/errors/describe';
import { assertSafeJson, canonicalJson, MAX_JSON_DEPTH, parseJsonBody, readRawBody } from '../../lib/http/body';
import { hashBody } from '../../lib/http/idempotency/request';
import { buildHttpEvent } from '../support/invoke';

const anyObject = z.looseObject({});
const nameSchema = z.strictObject({ name: z.string() });

/** A POST event; `body` strings are sent as they are (no content type unless given). */
const event = (body: unknown, headers: Record<string, string> = {}) =>
  buildHttpEvent({ method: 'POST', path: '/v1/things', body, headers });

/** The HTTP answer (status, code, details) the thrown error would get. */
function answer(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const { status, code, details } = describeError(err);
    return { status, code, details };
  }
  throw new Error('expected a throw');
}

describe('parseJsonBody', () => {
  it('accepts a JSON object with a JSON content type (charset and +json too) or none', () => {
    expect(parseJsonBody(event({ name: 'ok' }), nameSchema)).toEqual({ name: 'ok' });
    expect(parseJsonBody(event('{"name":"ok"}', { 'content-type': 'application/json; charset=utf-8' }), nameSchema)).toEqual({ name: 'ok' });
    expect(parseJsonBody(event('{"name":"ok"}', { 'Content-Type': 'application/merge-patch+json' }), nameSchema)).toEqual({ name: 'ok' });
    expect(parseJsonBody(event('{"name":"ok"}'), nameSchema)).toEqual({ name: 'ok' });
    expect(parseJsonBody(event(undefined), anyObject)).toEqual({}); // no body: {}
  });

  it('decodes base64 bodies and refuses ones that are not UTF-8', () => {
    const ev = event(undefined);
    ev.body = Buffer.from('{"name":"São Paulo"}').toString('base64');
    ev.isBase64Encoded = true;
    expect(parseJsonBody(ev, nameSchema)).toEqual({ name: 'São Paulo' });
    ev.body = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64');
    expect(answer(() => parseJsonBody(ev, anyObject))).toMatchObject({ status: 400, details: [{ field: 'body', problem: 'not valid UTF-8' }] });
  });

  it('answers 400 for malformed JSON', () => {
    for (const raw of ['{"name":', '{name: 1}', "{'a':1}", '{"a":1,}', 'undefined', '   ']) {
      expect(answer(() => parseJsonBody(event(raw), anyObject))).toMatchObject({
        status: 400,
        code: 'validation_failed',
        details: [{ field: 'body', problem: expect.any(String) }],
      });
    }
  });

  it('answers 400 for JSON that is not an object', () => {
    for (const [raw, got] of [['[]', 'array'], ['[{"name":"x"}]', 'array'], ['null', 'null'], ['"x"', 'string'], ['42', 'number'], ['true', 'boolean']]) {
      expect(answer(() => parseJsonBody(event(raw!), anyObject))).toEqual({
        status: 400,
        code: 'validation_failed',
        details: [{ field: 'body', problem: `expected a JSON object, got ${got}` }],
      });
    }
    // A route that takes another shape says so.
    expect(parseJsonBody(event('[1,2]'), z.array(z.number()), { expect: 'any' })).toEqual([1, 2]);
  });

  it('answers 400 naming the field for NUL characters, raw or escaped, in values and keys', () => {
    expect(answer(() => parseJsonBody(event({ name: 'a\u0000b' }), anyObject))).toEqual({
      status: 400,
      code: 'validation_failed',
      details: [{ field: 'name', problem: 'must not contain NUL characters' }],
    });
    expect(answer(() => parseJsonBody(event('{"patient":{"notes":["ok","x\\u0000"]}}'), anyObject)).details).toEqual([
      { field: 'patient.notes.1', problem: 'must not contain NUL characters' },
    ]);
    expect(answer(() => parseJsonBody(event('{"a\\u0000":1}'), anyObject)).details).toEqual([
      { field: 'a\u0000', problem: 'must not contain NUL characters' },
    ]);
  });

  it('answers 400 naming the field for lone UTF-16 surrogates and accepts proper pairs', () => {
    for (const s of ['\\ud800', 'x\\udfff', '\\udc00\\ud800', 'a\\ud83dz']) {
      expect(answer(() => parseJsonBody(event(`{"items":[{"name":"${s}"}]}`), anyObject))).toEqual({
        status: 400,
        code: 'validation_failed',
        details: [{ field: 'items.0.name', problem: 'must not contain lone UTF-16 surrogates' }],
      });
    }
    expect(parseJsonBody(event('{"name":"\\ud83d\\ude00 ok"}'), nameSchema)).toEqual({ name: '😀 ok' });
    expect(parseJsonBody(event({ name: 'Olá 😀' }), nameSchema)).toEqual({ name: 'Olá 😀' });
  });

  it('refuses nesting deeper than the bound with 400, never a stack overflow', () => {
    const deep = `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(answer(() => parseJsonBody(event(deep), anyObject))).toMatchObject({
      status: 400,
      details: [{ problem: `nested deeper than ${MAX_JSON_DEPTH} levels` }],
    });
    expect(() => assertSafeJson(JSON.parse(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`))).not.toThrow();
  });

  it('answers 415 when a body comes with a content type that is not JSON', () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      expect(answer(() => parseJsonBody(event('{"name":"x"}', { 'content-type': type }), anyObject))).toMatchObject({
        status: 415,
        code: 'unsupported_media_type',
      });
    }
  });

  it('answers 413 for bodies over the limit, counted in bytes, before parsing', () => {
    const max = 64 * 1024; // the default BODY_MAX_BYTES
    const fits = JSON.stringify({ name: 'x'.repeat(max - 11) });
    expect(Buffer.byteLength(fits)).toBe(max);
    expect(parseJsonBody(event(fits), nameSchema).name).toHaveLength(max - 11);
    const over = JSON.stringify({ name: 'x'.repeat(max - 10) });
    expect(answer(() => parseJsonBody(event(over), nameSchema))).toEqual({
      status: 413,
      code: 'payload_too_large',
      details: { maxBytes: max },
    });
    // Multi-byte characters count as their UTF-8 bytes; not even malformed JSON gets parsed.
    expect(answer(() => parseJsonBody(event(`{"name":"${'ç'.repeat(max / 2)}`), nameSchema)).status).toBe(413);
    const b64 = event(undefined);
    b64.body = Buffer.from(over).toString('base64');
    b64.isBase64Encoded = true;
    expect(answer(() => parseJsonBody(b64, nameSchema)).status).toBe(413);
    expect(answer(() => readRawBody({ body: 'abcd' }, 3)).status).toBe(413);
  });
});

describe('request hashing for idempotency', () => {
  it('ignores key order and spacing, not values or array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(hashBody('{"a":1,"b":{"x":1,"y":2}}')).toBe(hashBody('{ "b": {"y":2, "x":1}, "a": 1 }'));
    expect(hashBody('{"a":1}')).not.toBe(hashBody('{"a":2}'));
    expect(hashBody('[1,2]')).not.toBe(hashBody('[2,1]'));
    expect(hashBody('{"a":')).toMatch(/^[0-9a-f]{64}$/); // malformed: the raw text is hashed
    expect(hashBody('{"a":')).not.toBe(hashBody('{"a": '));
  });
});
