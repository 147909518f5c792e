import { getDb } from '../../platform/db/client';
import { inTransaction, type Tx } from '../../platform/db/transaction';
import { logger } from '../../platform/observability/logger';
import { afterCommit } from '../appointments/changes';
import type { ClinicScope } from '../appointments/dto';
import { applyTransition } from '../appointments/status';
import { actAs, appendConsent, currentConsents, type ConsentActor } from '../consents/store';
import { ANONYMOUS_NAME, scrubIdempotencyBodies } from './idempotency-scrub';
import { lockPatientRow } from './lock';
import { PATIENT, toView, type PatientView } from './view';

/** The cancellation reason of appointments cancelled by an anonymisation: a code, not free text. */
export const ANONYMIZED_REASON = 'patient_anonymized';

/** Cancels the patient's appointments still ahead, through the normal transition; returns their events. */
async function cancelFuture(tx: Tx, scope: ClinicScope, patientId: string) {
  const ahead = await tx.appointment.findMany({
    where: { clinicId: scope.clinicId, patientId, status: { in: ['scheduled', 'confirmed'] }, startsAt: { gt: new Date() } },
    select: { id: true },
    orderBy: { startsAt: 'asc' },
  });
  const done: { professionalId: string; eventIds: string[] }[] = [];
  for (const { id } of ahead) {
    const { appointment, eventIds } = await applyTransition(tx, scope, id, 'cancelled', ANONYMIZED_REASON);
    done.push({ professionalId: appointment.professionalId, eventIds });
  }
  return done;
}

/** Free text tied to the patient, in every table that holds it; the anonymisation's own code stays. */
async function eraseFreeText(tx: Tx, patientId: string) {
  await tx.$executeRaw`
    UPDATE appointments SET notes = NULL,
           cancel_reason = CASE WHEN cancel_reason = ${ANONYMIZED_REASON} THEN cancel_reason END
    WHERE patient_id = ${patientId}::uuid AND (notes IS NOT NULL OR cancel_reason IS NOT NULL)`;
  await tx.$executeRaw`
    UPDATE appointment_history h SET reason = CASE WHEN h.reason = ${ANONYMIZED_REASON} THEN h.reason END
    FROM appointments a WHERE a.id = h.appointment_id AND a.patient_id = ${patientId}::uuid AND h.reason IS NOT NULL`;
  await tx.$executeRaw`
    UPDATE notifications SET status = CASE WHEN status IN ('pending', 'failed') THEN 'skipped' ELSE status END,
           skip_reason = CASE WHEN status IN ('pending', 'failed') THEN 'anonymized' ELSE skip_reason END,
           last_error = NULL
    WHERE patient_id = ${patientId}::uuid`;
}

/**
 * Erases a patient's personal data (LGPD art. 18 IV/VI) and keeps the row as an anonymous
 * placeholder, so appointments, packages and notices keep their keys and the clinic its counts.
 * One transaction: future appointments are cancelled through the normal transition (history,
 * `appointment.cancelled` events, sessions returned; the worker then removes their reminders),
 * free text (notes, cancellation and history reasons) is erased, notices not yet sent become
 * `skipped` (`anonymized`), every granted channel gets a revocation, the stored answers of requests
 * about the patient are rewritten, and name, contacts and birth date go. Idempotent: a second call
 * changes nothing and answers the same placeholder. Events are published after the commit.
 */
export async function anonymizePatient(scope: ClinicScope, id: string, actor: ConsentActor): Promise<PatientView> {
  const result = await inTransaction(async (tx) => {
    const state = await lockPatientRow(tx, scope.clinicId, id);
    if (state.anonymized) return { cancelled: [] };
    await actAs(tx, actor);
    const cancelled = await cancelFuture(tx, scope, id);
    await eraseFreeText(tx, id);
    for (const record of Object.values(await currentConsents(tx, id))) {
      if (record?.status !== 'granted') continue;
      await appendConsent(tx, { clinicId: scope.clinicId, patientId: id, channel: record.channel, status: 'revoked', basis: null, actor, source: 'clinic' });
    }
    await tx.patient.update({
      where: { id },
      data: { name: ANONYMOUS_NAME, email: null, phone: null, birthDate: null, notifyEmail: false, notifyInApp: false, anonymizedAt: new Date() },
    });
    const scrubbed = await scrubIdempotencyBodies(tx, scope.clinicId, id);
    logger.info('patient.anonymized', { clinicId: scope.clinicId, patientId: id, cancelled: cancelled.length, idempotencyRows: scrubbed });
    return { cancelled };
  });
  for (const c of result.cancelled) await afterCommit(c.professionalId, c.eventIds);
  const db = await getDb();
  const row = await db.patient.findUniqueOrThrow({ where: { id }, select: PATIENT });
  return toView(row, await currentConsents(db, id));
}
