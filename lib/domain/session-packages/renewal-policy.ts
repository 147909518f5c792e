import type { AppointmentControl } from '../../platform/db/generated/client';

const DAY_MS = 86_400_000;

/**
 * The next period: starts where the old one ends (or now, if it already ended) and lasts as long,
 * at least a day. A renewal ahead of time thus leaves no gap and no overlap between the two
 * packages, and a late one never starts in the past.
 */
export function nextPeriod(old: Pick<AppointmentControl, 'validFrom' | 'validUntil'>, now = new Date()): { validFrom: Date; validUntil: Date } {
  const lengthMs = Math.max(old.validUntil.getTime() - old.validFrom.getTime(), DAY_MS);
  const validFrom = old.validUntil.getTime() > now.getTime() ? old.validUntil : now;
  return { validFrom, validUntil: new Date(validFrom.getTime() + lengthMs) };
}

/** Why a manual package is asked to be renewed, as the request and its notice record it. */
export type RenewalRequestReason = 'exhausted' | 'expiring';

/**
 * The reason a renewal request opens with, or undefined when none may open: a package already
 * renewed or expired has nothing left to renew, so asking the desk about it would be noise.
 */
export function renewalRequestReason(status: string): RenewalRequestReason | undefined {
  if (status === 'exhausted') return 'exhausted';
  return status === 'active' ? 'expiring' : undefined;
}
