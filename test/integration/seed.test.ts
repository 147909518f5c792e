import { DateTime } from 'luxon';
import { invoke } from '../support/invoke';
import { useSuite } from '../support/suite';

const { seedMod, slots, keys, dbClient } = useSuite({
  modules: {
    seedMod: () => import('../../prisma/seed'),
    slots: () => import('../../functions/http/slots'),
    keys: () => import('../../functions/http/clinic'),
    dbClient: () => import('../../lib/platform/db/client'),
  },
}).m;

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

it("npm run dev's demo data: a clinic, a bookable professional and a patient, a fresh key each run", async () => {
  const first = await seedMod.seed();
  const second = await seedMod.seed();
  expect(second).toMatchObject({
    clinicId: seedMod.DEMO_CLINIC_ID,
    professionalId: seedMod.DEMO_PROFESSIONAL_ID,
    patientId: seedMod.DEMO_PATIENT_ID,
  });
  // The previous run's key no longer works; the new one does.
  const stale = await invoke(keys.clinic, { method: 'GET', path: '/v1/clinic', headers: auth(first.apiKey) });
  expect(stale.status).toBe(401);
  const clinic = await invoke(keys.clinic, { method: 'GET', path: '/v1/clinic', headers: auth(second.apiKey) });
  expect(clinic.body).toMatchObject({ id: seedMod.DEMO_CLINIC_ID, timeZone: 'America/Sao_Paulo' });

  // Seeding twice made one of each, and the professional has free slots on the next Monday.
  const db = await dbClient.getDb();
  expect(await db.professional.count({ where: { clinicId: seedMod.DEMO_CLINIC_ID } })).toBe(1);
  expect(await db.patient.count({ where: { clinicId: seedMod.DEMO_CLINIC_ID } })).toBe(1);
  const monday = DateTime.now().setZone('America/Sao_Paulo').startOf('week').plus({ weeks: 1 });
  const res = await invoke(slots.handler, {
    method: 'GET',
    path: `/v1/professionals/${seedMod.DEMO_PROFESSIONAL_ID}/slots?from=${monday.toISODate()}&to=${monday.plus({ days: 1 }).toISODate()}`,
    pathParameters: { id: seedMod.DEMO_PROFESSIONAL_ID },
    headers: auth(second.apiKey),
  });
  expect(res.status).toBe(200);
  expect(res.body.slots.map((s: { start: string }) => s.start.slice(11, 16))).toEqual(['08:00', '09:00', '10:00', '11:00', '13:00', '14:00', '15:00', '16:00', '17:00']);
});
