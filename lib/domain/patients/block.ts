import { getDb } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { RuleViolationError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { currentConsents } from '../consents/store';
import { lockPatientRow } from './lock';
import { PATIENT, toView, type PatientView } from './view';

/**
 * Blocking (LGPD art. 18 IV, "bloqueio"): where the clinical record must be kept (Lei 13.787/2018,
 * 20 years), the data stays but is no longer used. A blocked patient is out of GET /v1/patients,
 * gets no notice on any channel (`skipped`, `blocked`; those already waiting are skipped now), and
 * cannot be booked (422). Their appointments stay in the agenda (they hold the professional's time
 * and carry only the patient's id). GET by id still answers, for the data subject's requests.
 */
export async function blockPatient(clinicId: string, id: string): Promise<PatientView> {
  await inTransaction(async (tx) => {
    const state = await lockPatientRow(tx, clinicId, id);
    if (state.anonymized) throw new RuleViolationError('patient_anonymized', 'The patient was anonymised');
    if (state.blocked) return;
    await tx.patient.update({ where: { id }, data: { blockedAt: new Date() } });
    await tx.notification.updateMany({ where: { patientId: id, status: { in: ['pending', 'failed'] } }, data: { status: 'skipped', skipReason: 'blocked' } });
    logger.info('patient.blocked', { clinicId, patientId: id });
  });
  return readView(id);
}

/** Lifts a block: lists, notices and bookings again. Notices skipped meanwhile stay skipped. */
export async function unblockPatient(clinicId: string, id: string): Promise<PatientView> {
  await inTransaction(async (tx) => {
    const state = await lockPatientRow(tx, clinicId, id);
    if (!state.blocked) return;
    await tx.patient.update({ where: { id }, data: { blockedAt: null } });
    logger.info('patient.unblocked', { clinicId, patientId: id });
  });
  return readView(id);
}

async function readView(id: string): Promise<PatientView> {
  const db = await getDb();
  const row = await db.patient.findUniqueOrThrow({ where: { id }, select: PATIENT });
  return toView(row, await currentConsents(db, id));
}
