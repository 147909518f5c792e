import { getDb } from '../lib/db/client';
import { createApiKey } from '../lib/tenancy/api-keys';

/** A fixed id so seeding is idempotent and the demo clinic is easy to find. */
export const DEMO_CLINIC_ID = '00000000-0000-4000-8000-000000000001';
const DEMO_KEY_NAME = 'demo (npm run dev)';

/**
 * Seeds the demo clinic used by `npm run dev` and issues a fresh demo API key (keys are shown only
 * once, so each run revokes the previous demo key and prints a new one). Safe to run repeatedly.
 */
export async function seed(): Promise<{ clinicId: string; apiKey: string }> {
  const db = await getDb();
  return db.$transaction(async (tx) => {
    await tx.clinic.upsert({
      where: { id: DEMO_CLINIC_ID },
      update: {},
      create: { id: DEMO_CLINIC_ID, name: 'Clínica Demo', timeZone: 'America/Sao_Paulo' },
    });
    await tx.apiKey.updateMany({
      where: { clinicId: DEMO_CLINIC_ID, name: DEMO_KEY_NAME, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    const key = await createApiKey(tx, DEMO_CLINIC_ID, DEMO_KEY_NAME);
    return { clinicId: DEMO_CLINIC_ID, apiKey: key.key };
  });
}
