import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';

type Lib = { scan: typeof import('../../lib/controls/expiry').scanExpiringControls; getDb: typeof import('../../lib/db/client').getDb };
let lib: Lib;
let pg: Client;

beforeAll(async () => {
  lib = { scan: require('../../lib/controls/expiry').scanExpiringControls, getDb: require('../../lib/db/client').getDb };
  pg = new Client({ connectionString: TEST_DIRECT_DATABASE_URL });
  await pg.connect();
});
afterAll(async () => {
  await pg.end();
  await require('../../lib/lifecycle/close-all').closeAll();
});

const days = (n: number) => new Date(Date.now() + n * 86_400_000);

it('emits control.expiring once per package ending within the window, however often and concurrently it scans', async () => {
  const { clinicId } = await newClinic();
  const db = await lib.getDb();
  const patient = await db.patient.create({ data: { clinicId, name: 'Paciente Teste' } });
  const soon = await db.appointmentControl.create({ data: { clinicId, patientId: patient.id, sessionsTotal: 10, sessionsUsed: 4, validUntil: days(3) } });
  const later = await db.appointmentControl.create({ data: { clinicId, patientId: patient.id, sessionsTotal: 10, validUntil: days(30) } });
  const exhausted = await db.appointmentControl.create({
    data: { clinicId, patientId: patient.id, sessionsTotal: 2, sessionsUsed: 2, status: 'exhausted', validUntil: days(2) },
  });

  await Promise.all([lib.scan(), lib.scan(), lib.scan()]);
  await lib.scan();

  const { rows } = await pg.query<{ aggregate_id: string; payload: Record<string, unknown> }>(
    "SELECT aggregate_id, payload FROM outbox_events WHERE type = 'control.expiring' AND clinic_id = $1",
    [clinicId],
  );
  expect(rows.map((r) => r.aggregate_id)).toEqual([soon.id]);
  expect(rows[0]!.payload).toEqual({ controlId: soon.id, patientId: patient.id, validUntil: soon.validUntil.toISOString(), sessionsRemaining: 6 });
  expect(JSON.stringify(rows[0]!.payload)).not.toContain('Paciente'); // ids only
  expect([later.id, exhausted.id]).not.toContain(rows[0]!.aggregate_id);
});
