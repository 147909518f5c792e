import { IANAZone } from 'luxon';
import { z } from 'zod';

/** An IANA time zone name PostgreSQL and Luxon both know, e.g. America/Sao_Paulo. */
export const timeZone = z.string().max(64).refine((tz) => IANAZone.isValidZone(tz), { message: 'unknown time zone' });

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
