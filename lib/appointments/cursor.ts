import { ValidationError } from '../errors/app-error';

/** An opaque keyset cursor: the last row's sort instant and id, base64url. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = iso ? new Date(iso) : new Date(NaN);
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(at.getTime())) {
    throw new ValidationError('Invalid query', [{ field: 'cursor', problem: 'not a cursor this API returned' }]);
  }
  return { at, id };
}
