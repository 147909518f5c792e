import { IANAZone } from 'luxon';
import { z } from 'zod';

/** An IANA time zone name PostgreSQL and Luxon both know, e.g. America/Sao_Paulo. */
export const timeZone = z.string().max(64).refine((tz) => IANAZone.isValidZone(tz), { message: 'unknown time zone' });

/**
 * A PATCH body: any subset of `fields`, at least one, nothing else. An empty body is a 400 that
 * says so rather than a no-op 200 that changed nothing.
 */
export const patchOf = <S extends z.ZodRawShape>(fields: S) =>
  z
    .strictObject(fields)
    .partial()
    .refine((o) => Object.keys(o).length > 0, { message: 'at least one field is required' });

/** A path id: a UUID, so a malformed id is a 400, not a database error. */
export const idParam = z.object({ id: z.uuid() });

/** Free text a person typed: trimmed, bounded, no NUL bytes (PostgreSQL rejects them in text). */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\u0000'), { message: 'must not contain NUL bytes' });
