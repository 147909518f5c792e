import type { AppointmentControl } from '../../platform/db/generated/client';

/**
 * The status a package has now. The scan stores `expired` only once a package is past its
 * lookback, so an active row whose end has passed must already read as expired.
 */
export function effectiveStatus(c: Pick<AppointmentControl, 'status' | 'validUntil'>, now = new Date()): string {
  return c.status === 'active' && c.validUntil <= now ? 'expired' : c.status;
}

/** What the API shows of a control: the stored row plus what is left and the status in effect now. */
export function toControlDto(c: AppointmentControl, now = new Date()) {
  return {
    id: c.id,
    patientId: c.patientId,
    professionalId: c.professionalId,
    specialty: c.specialty,
    sessionsTotal: c.sessionsTotal,
    sessionsUsed: c.sessionsUsed,
    sessionsRemaining: c.sessionsTotal - c.sessionsUsed,
    validFrom: c.validFrom.toISOString(),
    validUntil: c.validUntil.toISOString(),
    status: effectiveStatus(c, now),
    renewalPolicy: c.renewalPolicy,
    previousControlId: c.previousControlId,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
/** What every package operation returns. */
export type ControlDto = ReturnType<typeof toControlDto>;
