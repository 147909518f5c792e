import { z } from 'zod';
import { inSupportedRange } from '../validation/time';

/**
 * Keyset pagination shared by every list: a page ends at a row's (sort instant, id), and the next
 * page starts strictly after it. Stable under inserts, no OFFSET scans. Cursors are opaque.
 */
export interface Position {
  at: Date;
  id: string;
}

/** A page of a list. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.at.toISOString(), p.id])).toString('base64url');
}

function decodeCursor(raw: string): Position | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
    const [iso, id] = parsed as unknown[];
    if (typeof iso !== 'string' || typeof id !== 'string' || !UUID.test(id)) return undefined;
    const at = new Date(iso);
    return inSupportedRange(at) ? { at, id } : undefined;
  } catch {
    return undefined;
  }
}

/** `?cursor=`: a previous page's `nextCursor`, decoded; anything else is a 400 on `cursor`. */
export const cursor = z
  .string()
  .max(200)
  .transform((raw, ctx) => {
    const position = decodeCursor(raw);
    if (!position) {
      ctx.addIssue({ code: 'custom', message: 'invalid cursor' });
      return z.NEVER;
    }
    return position;
  });

/** `?limit=`: 1 to 100; query strings are text, so the number is coerced. */
export const limit = (fallback: number) => z.coerce.number().int().min(1).max(100).default(fallback);

/** The rows after a position in (field, id) order: a Prisma `where` fragment. */
export function keysetAfter<F extends string>(field: F, position: Position | undefined) {
  if (!position) return {};
  return { OR: [{ [field]: { gt: position.at } }, { [field]: position.at, id: { gt: position.id } }] };
}

/** Turns `limit + 1` rows fetched in (sort, id) order into a page and its next cursor. */
export function toPage<R extends { id: string }, T>(rows: R[], pageSize: number, sortOf: (row: R) => Date, map: (row: R) => T): Page<T> {
  const more = rows.length > pageSize;
  const kept = more ? rows.slice(0, pageSize) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(map), nextCursor: more && last ? encodeCursor({ at: sortOf(last), id: last.id }) : null };
}
