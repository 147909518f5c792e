import { DateTime } from 'luxon';
import { getDb } from '../db/client';
import { inTransaction } from '../db/transaction';
import type { AppointmentControl } from '../db/generated/client';
import { NotFoundError, RuleViolationError, ValidationError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { publishEvents, recordEvent, type Tx } from '../outbox/outbox';
import { keysetAfter, toPage } from '../pagination/cursor';
import type { CreateControlInput, ListControlsInput } from './schemas';

/** What the API shows of a control: the stored row plus what is left and the status in effect now. */
export function toControlDto(c: AppointmentControl, now = new Date()) {
  const status = c.status === 'active' && c.validUntil <= now ? 'expired' : c.status;
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
    status,
    renewalPolicy: c.renewalPolicy,
    previousControlId: c.previousControlId,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/** `validUntil` as an instant: a bare date means the end of that day in the clinic's time zone. */
export function resolveValidUntil(value: string, zone: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return DateTime.fromISO(value, { zone }).endOf('day').toJSDate();
  return DateTime.fromISO(value, { setZone: true }).toJSDate();
}

export async function createControl(clinicId: string, zone: string, input: CreateControlInput) {
  const validUntil = resolveValidUntil(input.validUntil, zone);
  if (validUntil.getTime() <= Date.now()) {
    throw new ValidationError('Invalid body', [{ field: 'validUntil', problem: 'must be in the future' }]);
  }
  const { control, eventId } = await inTransaction(async (tx) => {
    const patient = await tx.patient.findFirst({ where: { id: input.patientId, clinicId }, select: { id: true } });
    if (!patient) throw new NotFoundError('Patient not found');
    if (input.professionalId) {
      const pro = await tx.professional.findFirst({ where: { id: input.professionalId, clinicId }, select: { id: true } });
      if (!pro) throw new NotFoundError('Professional not found');
    }
    const control = await tx.appointmentControl.create({
      data: {
        clinicId,
        patientId: input.patientId,
        professionalId: input.professionalId ?? null,
        specialty: input.specialty ?? null,
        sessionsTotal: input.sessionsTotal,
        validUntil,
        renewalPolicy: input.renewalPolicy,
      },
    });
    const eventId = await recordEvent(tx, {
      clinicId,
      type: 'control.created',
      aggregateId: control.id,
      payload: { controlId: control.id, patientId: control.patientId, sessionsTotal: control.sessionsTotal },
    });
    return { control, eventId };
  });
  await publishEvents([eventId]);
  return toControlDto(control);
}

export async function getControl(clinicId: string, id: string) {
  const db = await getDb();
  const c = await db.appointmentControl.findFirst({ where: { id, clinicId } });
  if (!c) throw new NotFoundError('Control not found');
  return toControlDto(c);
}

export async function listControls(clinicId: string, q: ListControlsInput) {
  const db = await getDb();
  const rows = await db.appointmentControl.findMany({
    where: {
      clinicId,
      ...(q.patientId && { patientId: q.patientId }),
      ...(q.status && { status: q.status }),
      ...keysetAfter('createdAt', q.cursor),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: q.limit + 1,
  });
  return toPage(rows, q.limit, (c) => c.createdAt, (c) => toControlDto(c));
}

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
