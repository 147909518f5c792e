import { DateTime } from 'luxon';

/**
 * Scheduling fixtures written straight through the product's Prisma client (the professionals and
 * patients routes are another file's business): a professional working every day 08:00-20:00 local.
 */
export async function newProfessional(
  clinicId: string,
  opts: { bufferBeforeMinutes?: number; bufferAfterMinutes?: number; defaultDurationMinutes?: number; specialty?: string } = {},
) {
  const { getDb } = await import('../../lib/platform/db/client');
  const db = await getDb();
  return db.professional.create({
    data: {
      clinicId,
      name: 'Dr. Test',
      specialty: opts.specialty ?? 'cardiology',
      defaultDurationMinutes: opts.defaultDurationMinutes ?? 30,
      bufferBeforeMinutes: opts.bufferBeforeMinutes ?? 0,
      bufferAfterMinutes: opts.bufferAfterMinutes ?? 0,
      workingHours: { create: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, startMinute: 8 * 60, endMinute: 20 * 60 })) },
    },
  });
}

export async function newPatient(clinicId: string) {
  const { getDb } = await import('../../lib/platform/db/client');
  const db = await getDb();
  return db.patient.create({ data: { clinicId, name: 'Paciente Teste', email: 'p@example.com' } });
}

/** A local wall-clock time `days` from today in `zone`, as ISO with its offset. */
export function localAt(days: number, hour: number, minute = 0, zone = 'America/Sao_Paulo'): string {
  return DateTime.now().setZone(zone).plus({ days }).set({ hour, minute, second: 0, millisecond: 0 }).toISO({ suppressMilliseconds: true })!;
}

export const plusMinutes = (iso: string, minutes: number) => new Date(new Date(iso).getTime() + minutes * 60_000).toISOString();
