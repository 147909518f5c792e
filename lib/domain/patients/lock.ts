import type { Tx } from '../../platform/db/transaction';
import { NotFoundError } from '../../platform/errors/app-error';

/**
 * Locks the clinic's patient for the transaction (FOR UPDATE: a booking's FOR SHARE read waits for
 * it), with its anonymised / blocked state; 404 for another clinic's or an unknown id.
 */
export async function lockPatientRow(tx: Tx, clinicId: string, id: string): Promise<{ anonymized: boolean; blocked: boolean }> {
  const rows = await tx.$queryRaw<{ anonymized: boolean; blocked: boolean }[]>`
    SELECT anonymized_at IS NOT NULL AS anonymized, blocked_at IS NOT NULL AS blocked
    FROM patients WHERE id = ${id}::uuid AND clinic_id = ${clinicId}::uuid FOR UPDATE`;
  if (!rows[0]) throw new NotFoundError('Patient not found');
  return rows[0];
}
