import { getDb } from '../lib/db/client';

/** A fixed id so seeding is idempotent and the demo clinic is easy to find. */
export const DEMO_CLINIC_ID = '00000000-0000-4000-8000-000000000001';

/** Seeds the demo clinic used by `npm run dev`. Safe to run any number of times. */
export async function seed(): Promise<{ clinicId: string }> {
  const db = await getDb();
  await db.clinic.upsert({
    where: { id: DEMO_CLINIC_ID },
    update: {},
    create: { id: DEMO_CLINIC_ID, name: 'Clínica Demo', timeZone: 'America/Sao_Paulo' },
  });
  return { clinicId: DEMO_CLINIC_ID };
}
