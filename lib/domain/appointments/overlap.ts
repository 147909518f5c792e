import { isExclusionViolation } from '../../platform/db/errors';
import { ConflictError } from '../../platform/errors/app-error';

/** True when PostgreSQL refused the row with the no-double-booking exclusion constraint. */
export const isOverlapViolation = (err: unknown) => isExclusionViolation(err, 'appointments_no_overlap');

/**
 * The error a caller sees for a failed write. The database, not a read before the write, decides
 * an overlap (two racing bookings get one 201 and one 409), so its refusal becomes the 409
 * `slot_taken`; any other error passes through unchanged.
 */
export function overlapAsConflict(err: unknown): unknown {
  if (!isOverlapViolation(err)) return err;
  return new ConflictError(
    'The professional already has an appointment overlapping that time (buffers included)',
    { reason: 'slot_taken' },
    { cause: err },
  );
}

/** Runs a write that may overlap another appointment's blocked range, with the overlap as a 409. */
export async function refusingOverlap<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw overlapAsConflict(err);
  }
}
