import { getDb } from '../lib/platform/db/client';
import { createApiKey } from '../lib/domain/tenancy/api-keys';
import { BOOTSTRAP_SCOPES } from '../lib/domain/tenancy/scopes';

/** Fixed ids so seeding is idempotent and the demo records are easy to find. */
export const DEMO_CLINIC_ID = '00000000-0000-4000-8000-000000000001';
export const DEMO_PROFESSIONAL_ID = '00000000-0000-4000-8000-000000000101';
export const DEMO_PATIENT_ID = '00000000-0000-4000-8000-000000000201';
const DEMO_KEY_NAME = 'demo (npm run dev)';

/** Monday to Saturday (1-6), 08:00-12:00 and 13:00-18:00 local time. */
const DEMO_HOURS = [1, 2, 3, 4, 5, 6].flatMap((weekday) => [
  { weekday, startMinute: 8 * 60, endMinute: 12 * 60 },
  { weekday, startMinute: 13 * 60, endMinute: 18 * 60 },
]);

/**
 * Seeds the demo clinic used by `npm run dev`, with one professional and one patient so a booking
 * can be tried at once, and issues a fresh demo API key with every scope (keys are shown only once,
 * so each run revokes the previous demo key and prints a new one). Safe to run repeatedly: records
 * the demo user changed are left as they are.
 */
export async function seed(): Promise<{ clinicId: string; professionalId: string; patientId: string; apiKey: string }> {
  const db = await getDb();
  return db.$transaction(async (tx) => {
    await tx.clinic.upsert({
      where: { id: DEMO_CLINIC_ID },
      update: {},
      create: { id: DEMO_CLINIC_ID, name: 'Clínica Demo', timeZone: 'America/Sao_Paulo' },
    });
    await tx.professional.upsert({
      where: { id: DEMO_PROFESSIONAL_ID },
      update: {},
      create: {
        id: DEMO_PROFESSIONAL_ID,
        clinicId: DEMO_CLINIC_ID,
        name: 'Dra. Ana Souza',
        specialty: 'psicologia',
        defaultDurationMinutes: 50,
        bufferAfterMinutes: 10,
        slotStepMinutes: 60,
        workingHours: { create: DEMO_HOURS },
      },
    });
    await tx.patient.upsert({
      where: { id: DEMO_PATIENT_ID },
      update: {},
      create: { id: DEMO_PATIENT_ID, clinicId: DEMO_CLINIC_ID, name: 'João da Silva', email: 'joao@example.com', locale: 'pt-BR' },
    });
    await tx.apiKey.updateMany({
      where: { clinicId: DEMO_CLINIC_ID, name: DEMO_KEY_NAME, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    const key = await createApiKey(tx, DEMO_CLINIC_ID, DEMO_KEY_NAME, BOOTSTRAP_SCOPES);
    return { clinicId: DEMO_CLINIC_ID, professionalId: DEMO_PROFESSIONAL_ID, patientId: DEMO_PATIENT_ID, apiKey: key.key };
  });
}
