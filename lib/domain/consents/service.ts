import { auditedRead } from '../audit/reads';
import { getDb } from '../../platform/db/client';
import { inTransaction, type Tx } from '../../platform/db/transaction';
import { NotFoundError, RuleViolationError } from '../../platform/errors/app-error';
import { carriesHealthData, LEGAL_BASES } from './bases';
import type { RecordConsentInput } from './schemas';
import { actAs, appendConsent, consentHistory, currentConsents, type ConsentActor, type ConsentRecord, type CurrentConsents } from './store';

/**
 * Consent per patient and channel (LGPD art. 7/11): the API's reads and writes, and the export's
 * section. A record is never changed; a new one supersedes it. The e-mail and in-app records keep
 * the patient's `notifyEmail` / `notifyInApp` flags in step in the same transaction.
 */

/** What GET /v1/patients/{id}/consents answers and the patient export carries. */
export interface PatientConsents {
  current: CurrentConsents;
  history: ConsentRecord[];
}

const notFound = () => new NotFoundError('Patient not found');

/** Locks the clinic's patient for the transaction; 404 for another clinic's or an unknown id. */
async function lockPatient(tx: Tx, clinicId: string, patientId: string) {
  const rows = await tx.$queryRaw<{ anonymized: boolean }[]>`
    SELECT anonymized_at IS NOT NULL AS anonymized FROM patients
    WHERE id = ${patientId}::uuid AND clinic_id = ${clinicId}::uuid FOR UPDATE`;
  if (!rows[0]) throw notFound();
  return rows[0];
}

/** The current state per channel and the full history of one of the clinic's patients. */
export async function consentsForPatient(clinicId: string, patientId: string): Promise<PatientConsents> {
  return auditedRead(clinicId, 'consent', patientId, async () => {
    const db = await getDb();
    const patient = await db.patient.findFirst({ where: { id: patientId, clinicId }, select: { id: true } });
    if (!patient) throw notFound();
    const [current, history] = await Promise.all([currentConsents(db, patientId), consentHistory(db, patientId)]);
    return { current, history };
  });
}

/**
 * Grants or revokes one channel. Legitimate interest (art. 7 IX) is refused with 422: it is not a
 * basis for health data (art. 11), and every channel carries health data. An anonymised patient
 * has no contact to consent for (422).
 */
export async function recordConsent(clinicId: string, patientId: string, input: RecordConsentInput, actor: ConsentActor): Promise<ConsentRecord> {
  const basis = input.basis ?? null;
  if (basis && carriesHealthData(input.channel) && !LEGAL_BASES[basis].sensitiveData) {
    throw new RuleViolationError(
      'basis_not_allowed_for_health_data',
      `${LEGAL_BASES[basis].articles} is not a legal basis for health data (LGPD art. 11); use consent, contract or health_protection`,
      { basis, channel: input.channel },
    );
  }
  return inTransaction(async (tx) => {
    const patient = await lockPatient(tx, clinicId, patientId);
    if (patient.anonymized) throw new RuleViolationError('patient_anonymized', 'The patient was anonymised');
    await actAs(tx, actor);
    const record = await appendConsent(tx, {
      clinicId,
      patientId,
      channel: input.channel,
      status: input.status,
      basis,
      actor,
      source: input.source ?? 'clinic',
    });
    // The flag follows; the trigger finds it matching the record just written and adds nothing.
    const granted = input.status === 'granted';
    if (input.channel === 'email') await tx.patient.update({ where: { id: patientId }, data: { notifyEmail: granted } });
    if (input.channel === 'in_app') await tx.patient.update({ where: { id: patientId }, data: { notifyInApp: granted } });
    return record;
  });
}

/**
 * The consent section of a patient's data export (LGPD art. 18): the current state per channel and
 * every record. The caller has already checked the patient belongs to the requesting clinic.
 */
export async function consentsForExport(patientId: string): Promise<PatientConsents> {
  const db = await getDb();
  const [current, history] = await Promise.all([currentConsents(db, patientId), consentHistory(db, patientId)]);
  return { current, history };
}
