import type { Tx } from '../../platform/db/transaction';
import type { AppointmentControl } from '../../platform/db/generated/client';
import { NotFoundError, RuleViolationError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { recordEvent } from '../events/outbox';

// Sessions of a package, spent and given back inside the appointment's own transaction, so a
// booking and the session it used commit or roll back together.

/** What a booking asks a package to pay for: each field is one the package may restrict. */
export interface ConsumeContext {
  clinicId: string;
  controlId: string;
  patientId: string;
  professionalId: string;
  professionalSpecialty: string | null;
  startsAt: Date;
  appointmentId: string;
}

/**
 * Checks that a control may pay for this appointment (same patient, professional/specialty when the
 * control names one) and is valid at its time. Throws 404 / 422 naming the rule.
 */
export function assertControlApplies(c: AppointmentControl | null, ctx: Omit<ConsumeContext, 'appointmentId'>): AppointmentControl {
  if (!c || c.clinicId !== ctx.clinicId) throw new NotFoundError('Control not found');
  if (c.patientId !== ctx.patientId) throw new RuleViolationError('control_patient_mismatch', 'The control belongs to another patient');
  if (c.professionalId && c.professionalId !== ctx.professionalId) {
    throw new RuleViolationError('control_professional_mismatch', 'The control is for another professional');
  }
  if (c.specialty && c.specialty.toLowerCase() !== (ctx.professionalSpecialty ?? '').toLowerCase()) {
    throw new RuleViolationError('control_specialty_mismatch', 'The control is for another specialty');
  }
  if (c.status === 'exhausted' || (c.status === 'active' && c.sessionsUsed >= c.sessionsTotal)) {
    throw new RuleViolationError('control_exhausted', 'The control has no sessions left', { controlId: c.id });
  }
  if (c.status !== 'active') throw new RuleViolationError('control_inactive', `The control is ${c.status}`, { controlId: c.id });
  if (c.validUntil < ctx.startsAt) {
    throw new RuleViolationError('control_expired', 'The control expires before the appointment', {
      controlId: c.id,
      validUntil: c.validUntil.toISOString(),
    });
  }
  if (c.validFrom > ctx.startsAt) {
    throw new RuleViolationError('control_not_yet_valid', 'The control is not valid yet at the appointment time', { controlId: c.id });
  }
  return c;
}

/**
 * Consumes one session inside the booking's transaction. The UPDATE is conditional on a session
 * being left, so two concurrent bookings serialize on the row and cannot overspend (the table's
 * CHECK is the last line). Records control.consumed, and control.exhausted when none is left.
 */
export async function consumeSession(tx: Tx, ctx: ConsumeContext): Promise<string[]> {
  const control = assertControlApplies(await tx.appointmentControl.findFirst({ where: { id: ctx.controlId, clinicId: ctx.clinicId } }), ctx);
  const rows = await tx.$queryRaw<{ sessions_used: number; sessions_total: number }[]>`
    UPDATE appointment_controls
       SET sessions_used = sessions_used + 1,
           status = CASE WHEN sessions_used + 1 >= sessions_total THEN 'exhausted' ELSE status END,
           updated_at = now()
     WHERE id = ${control.id}::uuid AND status = 'active' AND sessions_used < sessions_total
     RETURNING sessions_used, sessions_total`;
  const row = rows[0];
  if (!row) throw new RuleViolationError('control_exhausted', 'The control has no sessions left', { controlId: control.id });
  const remaining = row.sessions_total - row.sessions_used;
  const base = { controlId: control.id, patientId: control.patientId, appointmentId: ctx.appointmentId };
  const events = [
    await recordEvent(tx, {
      clinicId: ctx.clinicId,
      type: 'control.consumed',
      aggregateId: control.id,
      payload: { ...base, sessionsUsed: row.sessions_used, sessionsRemaining: remaining },
    }),
  ];
  if (remaining === 0) {
    events.push(await recordEvent(tx, { clinicId: ctx.clinicId, type: 'control.exhausted', aggregateId: control.id, payload: base }));
  }
  return events;
}

/**
 * Gives back the session an appointment consumed (on cancel), inside the cancel's transaction; an
 * exhausted control that is still within its validity becomes active again.
 */
export async function releaseSession(tx: Tx, clinicId: string, controlId: string, appointmentId: string): Promise<string[]> {
  const rows = await tx.$queryRaw<{ sessions_used: number; sessions_total: number; patient_id: string }[]>`
    UPDATE appointment_controls
       SET sessions_used = sessions_used - 1,
           status = CASE WHEN status = 'exhausted' AND valid_until > now() THEN 'active' ELSE status END,
           updated_at = now()
     WHERE id = ${controlId}::uuid AND clinic_id = ${clinicId}::uuid AND sessions_used > 0
     RETURNING sessions_used, sessions_total, patient_id::text`;
  const row = rows[0];
  if (!row) {
    logger.warn('control.release_skipped', { controlId, appointmentId });
    return [];
  }
  return [
    await recordEvent(tx, {
      clinicId,
      type: 'control.released',
      aggregateId: controlId,
      payload: {
        controlId,
        patientId: row.patient_id,
        appointmentId,
        sessionsUsed: row.sessions_used,
        sessionsRemaining: row.sessions_total - row.sessions_used,
      },
    }),
  ];
}
