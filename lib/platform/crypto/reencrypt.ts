import { logger } from '../observability/logger';
import { ENCRYPTED_MODELS, type EncryptedModel } from './encrypted-fields';
import type { Keyring } from './keyring';
import { SEALED_PREFIX } from './sealed-value';

/** What one pass did to one table. */
export interface TableReport {
  table: string;
  updated: number;
  /** Rows a value of which could not be opened (named in the log by row id and column, never by value). */
  failed: number;
  /** Rows changed by the application between read and write: already current, left alone. */
  raced: number;
}

type Row = Record<string, string | null> & { id: string };

/**
 * Brings every encrypted column up to date, in batches of `batchSize` rows, walking each table by
 * id: plaintext written before encryption is sealed (the backfill), values under a retired data
 * key are sealed again under the active one (after a rotation), and e-mail hashes missing or made
 * with a retired hash key are recomputed. Each row is updated only if it still holds what was read,
 * so a concurrent write by the application wins. Safe to stop and run again.
 */
export async function reencryptAll(ring: Keyring, batchSize = 500): Promise<TableReport[]> {
  const out: TableReport[] = [];
  for (const spec of Object.values(ENCRYPTED_MODELS)) out.push(await reencryptTable(ring, spec, batchSize));
  return out;
}

async function reencryptTable(ring: Keyring, spec: EncryptedModel, batchSize: number): Promise<TableReport> {
  const report: TableReport = { table: spec.table, updated: 0, failed: 0, raced: 0 };
  const columns = Object.values(spec.fields);
  const current = `${SEALED_PREFIX}${(await ring.activeKey('data')).id}:`;
  const hashKey = spec.hash ? `${(await ring.activeKey('hash')).id}:` : '';
  const stale = columns.map((c) => `("${c}" IS NOT NULL AND "${c}" NOT LIKE $2)`);
  if (spec.hash) stale.push(`("${spec.fields[spec.hash.field]}" IS NOT NULL AND ("${spec.hash.column}" IS NULL OR "${spec.hash.column}" NOT LIKE $3))`);
  const select = `SELECT id::text, ${columns.map((c) => `"${c}"`).join(', ')} FROM "${spec.table}"
    WHERE id > $1::uuid AND (${stale.join(' OR ')}) ORDER BY id LIMIT ${Math.max(1, Math.floor(batchSize))}`;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await ring.pool.query<Row>(select, spec.hash ? [after, `${current}%`, `${hashKey}%`] : [after, `${current}%`]);
    if (rows.length === 0) break;
    for (const row of rows) {
      const outcome = await reencryptRow(ring, spec, row, current).catch((err: Error) => {
        logger.error('crypto.reencrypt.row_failed', { table: spec.table, rowId: row.id, error: err.message });
        return 'failed' as const;
      });
      report[outcome] += 1;
    }
    after = rows.at(-1)!.id;
    logger.info('crypto.reencrypt.batch', { ...report, rows: rows.length, after });
  }
  return report;
}

async function reencryptRow(ring: Keyring, spec: EncryptedModel, row: Row, current: string): Promise<'updated' | 'raced'> {
  const columns = Object.values(spec.fields);
  const next: (string | null)[] = [];
  let email: string | null = null;
  for (const column of columns) {
    const stored = row[column] ?? null;
    let plain: string | null;
    try {
      plain = stored === null ? null : await ring.open(stored);
    } catch (err) {
      throw new Error(`column ${column}: ${(err as Error).message}`);
    }
    if (spec.hash && column === spec.fields[spec.hash.field]) email = plain;
    next.push(stored === null || stored.startsWith(current) ? stored : await ring.seal(plain!));
  }
  const sets = columns.map((c, i) => `"${c}" = $${i + 2}`);
  const params: (string | null)[] = [row.id, ...next];
  if (spec.hash) {
    params.push(email === null ? null : await ring.hashEmail(email));
    sets.push(`"${spec.hash.column}" = $${params.length}`);
  }
  const guards = columns.map((c) => {
    params.push(row[c] ?? null);
    return `"${c}" IS NOT DISTINCT FROM $${params.length}`;
  });
  const { rowCount } = await ring.pool.query(`UPDATE "${spec.table}" SET ${sets.join(', ')} WHERE id = $1::uuid AND ${guards.join(' AND ')}`, params);
  return rowCount === 1 ? 'updated' : 'raced';
}
