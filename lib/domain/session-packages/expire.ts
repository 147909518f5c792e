import { inTransaction } from '../../platform/db/transaction';

const BATCH = 500;

export interface ExpireResult {
  expired: number;
  /** Pending renewal requests dismissed: of the packages expired now, or expired before with one left open. */
  dismissed: number;
}

/**
 * Stores `expired` a clinic's active or exhausted packages that ended before `since` and, in the
 * same transaction, dismisses their pending renewal requests: the scan never acts on an expired
 * package again, so its request would stay pending for good and its notice still go out.
 * The rows are locked first (FOR UPDATE, in id order), as renewControl and openRenewalRequest lock
 * them: a renewal that got there first has changed the row, which the lock re-reads and then skips;
 * one that comes later waits and finds the package expired (it may still renew it by hand), and no
 * request can be opened between the two updates. Packages expired earlier with a request still
 * pending (before this rule) are swept the same way. Batches of {@link BATCH}, one transaction each.
 */
export async function expireEnded(clinicId: string, since: Date, now: Date): Promise<ExpireResult> {
  const result: ExpireResult = { expired: 0, dismissed: 0 };
  for (;;) {
    const batch = await inTransaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string }[]>`
        SELECT c.id::text FROM appointment_controls c
         WHERE c.clinic_id = ${clinicId}::uuid
           AND ((c.status IN ('active', 'exhausted') AND c.valid_until < ${since})
             OR (c.status = 'expired' AND EXISTS (
                   SELECT 1 FROM renewal_requests r WHERE r.control_id = c.id AND r.status = 'pending')))
         ORDER BY c.id
         LIMIT ${BATCH}
         FOR UPDATE OF c`;
      const ids = rows.map((r) => r.id);
      if (ids.length === 0) return { locked: 0, expired: 0, dismissed: 0 };
      const expired = await tx.appointmentControl.updateMany({
        where: { id: { in: ids }, status: { in: ['active', 'exhausted'] } },
        data: { status: 'expired' },
      });
      // The CHECK on renewal_requests: a resolved status carries resolved_at.
      const dismissed = await tx.renewalRequest.updateMany({
        where: { controlId: { in: ids }, status: 'pending' },
        data: { status: 'dismissed', resolvedAt: now },
      });
      return { locked: ids.length, expired: expired.count, dismissed: dismissed.count };
    });
    result.expired += batch.expired;
    result.dismissed += batch.dismissed;
    if (batch.locked < BATCH) return result;
  }
}
