import type { CurrentConsents } from '../consents/store';

/** The columns every patient answer reads. */
export const PATIENT = {
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
  anonymizedAt: true,
  blockedAt: true,
} as const;

/**
 * A patient as the API shows it. `notifyEmail` / `notifyInApp` are kept for compatibility as a
 * view of the e-mail / in-app consent; `consents` (single reads only) is the current record per
 * channel.
 */
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
  /** Set once personal data was erased (POST .../anonymize). */
  anonymizedAt: Date | null;
  /** Set while blocked (POST .../block): out of lists, notices and new bookings. */
  blockedAt: Date | null;
  consents?: CurrentConsents;
}

export type PatientRow = Omit<PatientView, 'birthDate' | 'consents'> & { birthDate: Date | null };

/** A DATE column comes back as UTC midnight of that date. */
export const toView = (row: PatientRow, consents?: CurrentConsents): PatientView => ({
  ...row,
  birthDate: row.birthDate ? row.birthDate.toISOString().slice(0, 10) : null,
  ...(consents && { consents }),
});

/** YYYY-MM-DD (validated) to the Date Prisma writes into a DATE column; null and undefined pass. */
export const toDate = (d: string | null | undefined) => (d === undefined ? undefined : d === null ? null : new Date(`${d}T00:00:00.000Z`));
