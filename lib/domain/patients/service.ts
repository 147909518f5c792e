import { getDb } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { isForeignKeyViolation } from '../../platform/db/errors';
import { ConflictError, NotFoundError, RuleViolationError } from '../../platform/errors/app-error';
import { keysetAfter, toPage, type Page, type Position } from '../../platform/pagination/cursor';
import { auditedRead, recordReads } from '../audit/reads';
import { DEFAULT_FLAG_BASIS } from '../consents/bases';
import { actAs, currentConsents, type ConsentActor } from '../consents/store';
import type { CreatePatientInput, UpdatePatientInput } from './schemas';
import { PATIENT, toDate, toView, type PatientView } from './view';

export type { PatientView } from './view';

/**
 * Patients and their contact data and notification preferences. Contact data is patient data
 * (LGPD): nothing here logs it, and e-mail and phone are stored encrypted (the Prisma client seals
 * and opens them: lib/platform/db/field-encryption.ts). Every query is scoped to the caller's clinic.
 * The notify flags are a view of the e-mail / in-app consent: writing them appends a consent record
 * (the migration's trigger), by the actor named here, with the default basis (../consents/bases).
 */

/** The recorder of changes made outside a request (scripts, seeds). */
const SYSTEM: ConsentActor = { type: 'system', id: null };

const notFound = () => new NotFoundError('Patient not found');

/** Prisma's `contains` becomes ILIKE '%q%' without escaping: make %, _ and \ literal characters. */
const escapeLike = (q: string) => q.replace(/[\\%_]/g, '\\$&');

export async function createPatient(clinicId: string, input: CreatePatientInput, actor: ConsentActor = SYSTEM): Promise<PatientView> {
  return inTransaction(async (tx) => {
    await actAs(tx, actor, DEFAULT_FLAG_BASIS);
    const row = await tx.patient.create({ data: { ...input, birthDate: toDate(input.birthDate), clinicId }, select: PATIENT });
    return toView(row, await currentConsents(tx, row.id));
  });
}

export async function listPatients(
  clinicId: string,
  query: { limit: number; cursor?: Position | undefined; q?: string | undefined; email?: string | undefined },
): Promise<Page<PatientView>> {
  const db = await getDb();
  const rows = await db.patient.findMany({
    where: {
      clinicId,
      // Blocked patients (kept under a legal duty) and anonymised placeholders are out of lists.
      blockedAt: null,
      anonymizedAt: null,
      ...(query.q !== undefined && { name: { contains: escapeLike(query.q), mode: 'insensitive' as const } }),
      // The column is sealed: the client's encryption layer turns this into an email_hash lookup.
      ...(query.email !== undefined && { email: query.email }),
      ...keysetAfter('createdAt', query.cursor),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    select: PATIENT,
  });
  const page = toPage(rows, query.limit, (r) => r.createdAt, (r) => toView(r));
  await recordReads(clinicId, 'list', page.data.map((p) => ({ resourceType: 'patient', resourceId: p.id, patientId: p.id })));
  return page;
}

export async function getPatient(clinicId: string, id: string): Promise<PatientView> {
  return auditedRead(clinicId, 'patient', id, async () => {
    const db = await getDb();
    const row = await db.patient.findFirst({ where: { id, clinicId }, select: PATIENT });
    if (!row) throw notFound();
    return toView(row, await currentConsents(db, id));
  });
}

/** Changes a patient (a blocked one too: rectification is a data-subject right); 422 once anonymised. */
export async function updatePatient(clinicId: string, id: string, input: UpdatePatientInput, actor: ConsentActor = SYSTEM): Promise<PatientView> {
  return inTransaction(async (tx) => {
    const found = await tx.patient.findFirst({ where: { id, clinicId }, select: { anonymizedAt: true } });
    if (!found) throw notFound();
    if (found.anonymizedAt) throw new RuleViolationError('patient_anonymized', 'The patient was anonymised');
    await actAs(tx, actor, DEFAULT_FLAG_BASIS);
    const { count } = await tx.patient.updateMany({ where: { id, clinicId }, data: { ...input, birthDate: toDate(input.birthDate) } });
    if (count === 0) throw notFound();
    const row = await tx.patient.findUniqueOrThrow({ where: { id }, select: PATIENT });
    return toView(row, await currentConsents(tx, id));
  });
}

const hasAppointments = () =>
  new ConflictError(
    'The patient has appointments and cannot be deleted: anonymise (POST /v1/patients/{id}/anonymize) or block (POST /v1/patients/{id}/block) instead',
    { rule: 'patient_has_appointments', alternatives: ['anonymize', 'block'] },
  );

/**
 * Deletes a patient who has no appointments (their session packages go with them). A patient with
 * appointments answers 409; the foreign key (ON DELETE RESTRICT) backs the check when a booking
 * lands between the check and the delete.
 */
export async function deletePatient(clinicId: string, id: string): Promise<void> {
  try {
    await inTransaction(async (tx) => {
      const patient = await tx.patient.findFirst({ where: { id, clinicId }, select: { id: true } });
      if (!patient) throw notFound();
      if (await tx.appointment.count({ where: { patientId: id } })) throw hasAppointments();
      await tx.patient.delete({ where: { id } });
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) throw hasAppointments();
    throw err;
  }
}
