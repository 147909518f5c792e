import { inTransaction, type Tx } from '../../platform/db/transaction';
import { getDb } from '../../platform/db/client';
import { isUniqueViolation } from '../../platform/db/errors';
import type { AppointmentControl } from '../../platform/db/generated/client';
import { ConflictError, NotFoundError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { publishEvents, recordEvent } from '../events/outbox';
import { toControlDto, type ControlDto } from './dto';
import { nextPeriod, renewalRequestReason } from './renewal-policy';


/** Who asked for a renewal: the renewal scan (automatic policy) or a person (POST /v1/controls/{id}/renew). */
export type RenewedBy = 'scan' | 'manual';

/** The same shape whether the successor was created now or found, so a retry reads like the first call. */
export interface RenewResult {
  /** The successor: the one just created, or the one an earlier (or concurrent) renewal created. */
  control: ControlDto;
  /** False when the control had already been renewed: nothing was created now. */
  created: boolean;
  previousControlId: string;
}

async function findSuccessor(clinicId: string, controlId: string): Promise<AppointmentControl | null> {
  const db = await getDb();
  return db.appointmentControl.findFirst({ where: { clinicId, previousControlId: controlId } });
}

function alreadyRenewed(old: { id: string }, successor: AppointmentControl): RenewResult {
  return { control: toControlDto(successor), created: false, previousControlId: old.id };
}

/**
 * Renews a session package once: in one transaction, with the control's row locked (SELECT ... FOR
 * UPDATE), creates the next period (same patient, professional, specialty, quota and policy;
 * `previousControlId` = the old id), marks the old one `renewed`, fulfils its pending renewal request
 * and records `control.renewed`. A concurrent caller waits on the lock and then finds it renewed; the
 * unique index on previous_control_id is the last line, and its violation is read as "already
 * renewed" too. Either way the existing successor comes back with `created: false`.
 * Another clinic's (or an unknown) id is a 404.
 */
export async function renewControl(clinicId: string, controlId: string, opts: { by: RenewedBy }, now = new Date()): Promise<RenewResult> {
  let outcome: { result: RenewResult; eventId?: string };
  try {
    outcome = await inTransaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM appointment_controls WHERE id = ${controlId}::uuid AND clinic_id = ${clinicId}::uuid FOR UPDATE`;
      if (!locked[0]) throw new NotFoundError('Control not found');
      const old = await tx.appointmentControl.findUniqueOrThrow({ where: { id: controlId } });
      const existing = await tx.appointmentControl.findFirst({ where: { clinicId, previousControlId: old.id } });
      if (existing) return { result: alreadyRenewed(old, existing) };
      if (old.status === 'renewed') {
        // Renewed once, but its successor was deleted since (the link is ON DELETE SET NULL).
        throw new ConflictError('The control was already renewed', { controlId: old.id, successorId: null });
      }
      const successor = await tx.appointmentControl.create({
        data: {
          clinicId,
          patientId: old.patientId,
          professionalId: old.professionalId,
          specialty: old.specialty,
          sessionsTotal: old.sessionsTotal,
          renewalPolicy: old.renewalPolicy,
          previousControlId: old.id,
          ...nextPeriod(old, now),
        },
      });
      await tx.appointmentControl.update({ where: { id: old.id }, data: { status: 'renewed' } });
      await tx.renewalRequest.updateMany({
        where: { controlId: old.id, status: 'pending' },
        data: { status: 'fulfilled', resolvedAt: now },
      });
      const eventId = await recordEvent(tx, {
        clinicId,
        type: 'control.renewed',
        aggregateId: successor.id,
        payload: {
          controlId: successor.id,
          previousControlId: old.id,
          patientId: successor.patientId,
          sessionsTotal: successor.sessionsTotal,
          validFrom: successor.validFrom.toISOString(),
          validUntil: successor.validUntil.toISOString(),
          previousStatus: old.status,
          by: opts.by,
        },
      });
      return { result: { control: toControlDto(successor, now), created: true, previousControlId: old.id }, eventId };
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const successor = await findSuccessor(clinicId, controlId);
    if (!successor) throw err;
    return alreadyRenewed({ id: controlId }, successor);
  }
  if (outcome.eventId) {
    await publishEvents([outcome.eventId]);
    logger.info('control.renewed', { clinicId, previousControlId: controlId, controlId: outcome.result.control.id, by: opts.by });
  }
  return outcome.result;
}

/**
 * Opens the renewal request of a manual-policy package and records `control.renewal_requested`,
 * once: the unique control_id makes a second insert a no-op (ON CONFLICT DO NOTHING). The control's
 * row is locked so that a concurrent renewal either comes first (then no request) or waits.
 * Returns the event id when a request was opened now.
 */
export async function openRenewalRequest(clinicId: string, controlId: string): Promise<string | undefined> {
  return inTransaction(async (tx: Tx) => {
    const rows = await tx.$queryRaw<{ status: string; patient_id: string }[]>`
      SELECT status, patient_id::text FROM appointment_controls
       WHERE id = ${controlId}::uuid AND clinic_id = ${clinicId}::uuid FOR UPDATE`;
    const c = rows[0];
    const reason = c && renewalRequestReason(c.status);
    if (!c || !reason) return undefined;
    const inserted = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO renewal_requests (clinic_id, control_id, reason)
      VALUES (${clinicId}::uuid, ${controlId}::uuid, ${reason})
      ON CONFLICT (control_id) DO NOTHING
      RETURNING id::text`;
    const request = inserted[0];
    if (!request) return undefined;
    return recordEvent(tx, {
      clinicId,
      type: 'control.renewal_requested',
      aggregateId: controlId,
      payload: { controlId, requestId: request.id, patientId: c.patient_id, reason },
    });
  });
}

/**
 * A renewal asked for by hand (`POST /v1/controls/{id}/renew`). A package renewed already is a
 * conflict the desk must see, with the successor's id in `details.successorId`, where the renewal
 * scan counts the same outcome as done.
 */
export async function renewControlByHand(clinicId: string, controlId: string) {
  const result = await renewControl(clinicId, controlId, { by: 'manual' });
  if (!result.created) throw new ConflictError('The control was already renewed', { controlId, successorId: result.control.id });
  return result.control;
}
