import { newClinic } from '../support/clinic';
import { useSuite } from '../support/suite';

const suite = useSuite({
  modules: { scan: () => import('../../lib/domain/session-packages/expiring-scan'), db: () => import('../../lib/platform/db/client') },
  pg: true,
});
const { scan, db: dbClient } = suite.m;

const days = (n: number) => new Date(Date.now() + n * 86_400_000);

it('emits control.expiring once per package ending within the window, however often and concurrently it scans', async () => {
  const { clinicId } = await newClinic();
  const db = await dbClient.getDb();
  const patient = await db.patient.create({ data: { clinicId, name: 'Paciente Teste' } });
  const soon = await db.appointmentControl.create({ data: { clinicId, patientId: patient.id, sessionsTotal: 10, sessionsUsed: 4, validUntil: days(3) } });
  const later = await db.appointmentControl.create({ data: { clinicId, patientId: patient.id, sessionsTotal: 10, validUntil: days(30) } });
  const exhausted = await db.appointmentControl.create({
    data: { clinicId, patientId: patient.id, sessionsTotal: 2, sessionsUsed: 2, status: 'exhausted', validUntil: days(2) },
  });

  await Promise.all([scan.scanExpiringControls(), scan.scanExpiringControls(), scan.scanExpiringControls()]);
  await scan.scanExpiringControls();

  const { rows } = await suite.pg.query<{ aggregate_id: string; payload: Record<string, unknown> }>(
    "SELECT aggregate_id, payload FROM outbox_events WHERE type = 'control.expiring' AND clinic_id = $1",
    [clinicId],
  );
  expect(rows.map((r) => r.aggregate_id)).toEqual([soon.id]);
  expect(rows[0]!.payload).toEqual({ controlId: soon.id, patientId: patient.id, validUntil: soon.validUntil.toISOString(), sessionsRemaining: 6 });
  expect(JSON.stringify(rows[0]!.payload)).not.toContain('Paciente'); // ids only
  expect([later.id, exhausted.id]).not.toContain(rows[0]!.aggregate_id);
});
