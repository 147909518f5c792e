import { getDb } from '../db/client';
import { inTransaction } from '../db/transaction';
import { isForeignKeyViolation } from '../db/errors';
import { ConflictError, NotFoundError } from '../errors/app-error';
import {
  type CreatePatientInput,
  type UpdatePatientInput,
} from './schemas';
import { keysetAfter, toPage, type Page, type Position } from '../pagination/cursor';

/**
 * Patients and their contact data and notification preferences. Contact data is patient data
 * (LGPD): nothing here logs it. Every query is scoped to the caller's clinic.
 */

const PATIENT = {
  id: true,
  name: true,
  email: true,
  phone: true,
  birthDate: true,
  locale: true,
  notifyEmail: true,
  notifyInApp: true,
  createdAt: true,
  updatedAt: true,
} as const;

export interface PatientView {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  /** YYYY-MM-DD */
  birthDate: string | null;
  locale: string;
  notifyEmail: boolean;
  notifyInApp: boolean;
  createdAt: Date;
  updatedAt: Date;
}

type PatientRow = Omit<PatientView, 'birthDate'> & { birthDate: Date | null };

/** A DATE column comes back as UTC midnight of that date. */
const toView = (row: PatientRow): PatientView => ({
  ...row,
  birthDate: row.birthDate ? row.birthDate.toISOString().slice(0, 10) : null,
});

/** YYYY-MM-DD (validated) to the Date Prisma writes into a DATE column; null and undefined pass. */
const toDate = (d: string | null | undefined) => (d === undefined ? undefined : d === null ? null : new Date(`${d}T00:00:00.000Z`));

const notFound = () => new NotFoundError('Patient not found');

/** Prisma's `contains` becomes ILIKE '%q%' without escaping: make %, _ and \ literal characters. */
const escapeLike = (q: string) => q.replace(/[\\%_]/g, '\\$&');

export async function createPatient(clinicId: string, input: CreatePatientInput): Promise<PatientView> {
  const db = await getDb();
  const row = await db.patient.create({
    data: { ...input, birthDate: toDate(input.birthDate), clinicId },
    select: PATIENT,
  });
  return toView(row);
}

export async function listPatients(
  clinicId: string,
  query: { limit: number; cursor?: Position | undefined; q?: string | undefined },
): Promise<Page<PatientView>> {
  const db = await getDb();
  const rows = await db.patient.findMany({
    where: {
      clinicId,
      ...(query.q !== undefined && { name: { contains: escapeLike(query.q), mode: 'insensitive' as const } }),
      ...keysetAfter('createdAt', query.cursor),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    select: PATIENT,
  });
  return toPage(rows, query.limit, (r) => r.createdAt, toView);
}

export async function getPatient(clinicId: string, id: string): Promise<PatientView> {
  const db = await getDb();
  const row = await db.patient.findFirst({ where: { id, clinicId }, select: PATIENT });
  if (!row) throw notFound();
  return toView(row);
}

export async function updatePatient(clinicId: string, id: string, input: UpdatePatientInput): Promise<PatientView> {
  const row = await inTransaction(async (tx) => {
    const { count } = await tx.patient.updateMany({
      where: { id, clinicId },
      data: { ...input, birthDate: toDate(input.birthDate) },
    });
    if (count === 0) throw notFound();
    return tx.patient.findUniqueOrThrow({ where: { id }, select: PATIENT });
  });
  return toView(row);
}

const hasAppointments = () =>
  new ConflictError('The patient has appointments and cannot be deleted', { rule: 'patient_has_appointments' });

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
