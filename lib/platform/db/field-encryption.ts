import { ENCRYPTED_MODELS, SEALED_FIELD_NAMES, type EncryptedModel } from '../crypto/encrypted-fields';
import type { Keyring } from '../crypto/keyring';
import { isSealed, open, parseSealed, SealedValueError, type SealedParts } from '../crypto/sealed-value';

/**
 * The Prisma side of encryption at rest, used by the client's query extension (./client.ts): writes
 * to an encrypted model have those fields sealed (and the e-mail's lookup hash set); a `where` on
 * the patient's e-mail becomes one on its hash; every result, nested relations included, has its
 * sealed fields opened. Domain code reads and writes plain values. Not covered: nested writes
 * (`patient: { create: ... }` from another model) and raw SQL, which sees the stored form.
 */

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v));

const DATA_ARGS: Readonly<Record<string, readonly string[]>> = {
  create: ['data'],
  createMany: ['data'],
  createManyAndReturn: ['data'],
  update: ['data'],
  updateMany: ['data'],
  updateManyAndReturn: ['data'],
  upsert: ['create', 'update'],
};

/** One data object (or a createMany list) with its encrypted fields sealed; `{ set: v }` too. */
async function sealData(ring: Keyring, spec: EncryptedModel, data: unknown): Promise<unknown> {
  if (Array.isArray(data)) return Promise.all(data.map((d) => sealData(ring, spec, d)));
  if (!isObject(data)) return data;
  const out: Obj = { ...data };
  for (const field of Object.keys(spec.fields)) {
    if (!(field in out)) continue;
    const given = out[field];
    const wrapped = isObject(given) && 'set' in given;
    const plain = wrapped ? given.set : given;
    if (plain === undefined) continue;
    const stored = typeof plain === 'string' ? await ring.seal(plain) : plain;
    out[field] = wrapped ? { set: stored } : stored;
    if (spec.hash?.field === field) out[spec.hash.hashField] = typeof plain === 'string' ? await ring.hashEmail(plain) : null;
  }
  return out;
}

/**
 * `where: { email: 'x' }` (or `{ equals: 'x' }`) looks the hash up instead: the column is sealed.
 * Null tests (`email: null`, `{ not: null }`) work on the sealed column as they are; pattern filters
 * cannot work on ciphertext and are refused rather than silently matching nothing.
 */
async function hashWhere(ring: Keyring, spec: EncryptedModel, where: unknown): Promise<unknown> {
  if (!spec.hash || !isObject(where) || !(spec.hash.field in where)) return where;
  const given = where[spec.hash.field];
  const value = isObject(given) && typeof given.equals === 'string' && Object.keys(given).length === 1 ? given.equals : given;
  if (typeof value !== 'string') {
    if (isObject(given) && Object.keys(given).some((k) => k !== 'not' && k !== 'equals')) {
      throw new Error(`${spec.table}.${spec.hash.field} is encrypted: only equality and null lookups work`);
    }
    return where;
  }
  const rest: Obj = { ...where, [spec.hash.hashField]: await ring.hashEmail(value) };
  delete rest[spec.hash.field];
  return rest;
}

/** The arguments to send: a copy (the caller's object is left alone, so a retried query seals afresh). */
export async function sealArgs(ring: Keyring, model: string | undefined, operation: string, args: unknown): Promise<unknown> {
  const spec = model ? ENCRYPTED_MODELS[model] : undefined;
  if (!spec || !isObject(args)) return args;
  const out: Obj = { ...args };
  for (const key of DATA_ARGS[operation] ?? []) if (key in out) out[key] = await sealData(ring, spec, out[key]);
  if ('where' in out) out.where = await hashWhere(ring, spec, out.where);
  return out;
}

interface Hit {
  obj: Obj;
  field: string;
  parts: SealedParts;
}

function collect(node: unknown, hits: Hit[]): void {
  if (Array.isArray(node)) for (const item of node) collect(item, hits);
  else if (isObject(node)) {
    for (const [field, value] of Object.entries(node)) {
      if (typeof value === 'string') {
        if (SEALED_FIELD_NAMES.has(field) && isSealed(value)) hits.push({ obj: node, field, parts: parseAt(node, field, value) });
      } else if (typeof value === 'object' && value !== null) collect(value, hits);
    }
  }
}

/** Errors name the field and the row, never the value. */
const failure = (obj: Obj, field: string, reason: string) =>
  new SealedValueError(`${field} of row ${typeof obj.id === 'string' ? obj.id : '?'} could not be decrypted: ${reason}`);

function parseAt(obj: Obj, field: string, value: string): SealedParts {
  try {
    return parseSealed(value);
  } catch (err) {
    throw failure(obj, field, (err as Error).message);
  }
}

/** Opens every sealed field of a result in place; each data key it needs is fetched once. */
export async function openResult<T>(ring: Keyring, result: T): Promise<T> {
  const hits: Hit[] = [];
  collect(result, hits);
  if (hits.length === 0) return result;
  const keys = new Map<string, Buffer>();
  for (const hit of hits) {
    if (keys.has(hit.parts.keyId)) continue;
    try {
      keys.set(hit.parts.keyId, await ring.key(hit.parts.keyId, 'data'));
    } catch (err) {
      throw failure(hit.obj, hit.field, (err as Error).message);
    }
  }
  for (const { obj, field, parts } of hits) {
    try {
      obj[field] = open(parts, keys.get(parts.keyId)!);
    } catch (err) {
      throw failure(obj, field, (err as Error).message);
    }
  }
  return result;
}
