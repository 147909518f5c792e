import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { invoke } from '../support/invoke';
import { newPatient, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';
import { until } from '../support/until';

const suite = useSuite({
  // A lookback shorter than the longest delay a clinic may set (72 h): the window counts from the due time.
  env: { NO_SHOW_LOOKBACK_HOURS: '24' },
  modules: {
    noShow: () => import('../../lib/domain/appointments/no-show'),
    db: () => import('../../lib/platform/db/client'),
    clinicFns: () => import('../../functions/http/clinic'),
  },
  pg: true,
});
const { noShow, db: dbClient, clinicFns } = suite.m;
const sweep = () => noShow.sweepNoShows();

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

/** An appointment row ending `endedMinutesAgo` minutes ago (negative: in the future), 30 minutes long. */
async function appointmentEnded(clinicId: string, professionalId: string, patientId: string, endedMinutesAgo: number, status = 'scheduled') {
  const db = await dbClient.getDb();
  const endsAt = minutesAgo(endedMinutesAgo);
  const startsAt = new Date(endsAt.getTime() - 30 * 60_000);
  return db.appointment.create({
    data: { clinicId, professionalId, patientId, startsAt, endsAt, blockStartsAt: startsAt, blockEndsAt: endsAt, status },
  });
}

const patch = (key: string, body: unknown) =>
  invoke(clinicFns.update, { method: 'PATCH', path: '/v1/clinic', headers: { authorization: `Bearer ${key}` }, body });

describe('PATCH /v1/clinic', () => {
  it('turns the automatic no-show on and off, and GET /v1/clinic shows it', async () => {
    const c = await newClinic();
    const on = await patch(c.key, { autoNoShowAfterMinutes: 30, reminderOffsetsMinutes: [60] });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ id: c.clinicId, autoNoShowAfterMinutes: 30, reminderOffsetsMinutes: [60] });
    const got = await invoke(clinicFns.clinic, { method: 'GET', path: '/v1/clinic', headers: c.auth.headers });
    expect(got.body).toMatchObject({ autoNoShowAfterMinutes: 30, reminderOffsetsMinutes: [60] });
    const off = await patch(c.key, { autoNoShowAfterMinutes: null });
    expect(off.status).toBe(200);
    expect(off.body.autoNoShowAfterMinutes).toBeNull();
  });

  it.each([
    [{}, 'at least one field'],
    [{ autoNoShowAfterMinutes: -1 }, 'autoNoShowAfterMinutes'],
    [{ autoNoShowAfterMinutes: 4321 }, 'autoNoShowAfterMinutes'],
    [{ autoNoShowAfterMinutes: '30' }, 'autoNoShowAfterMinutes'],
    [{ timeZone: 'Europe/Lisbon' }, 'timeZone'],
    [{ reminderOffsetsMinutes: [1] }, 'reminderOffsetsMinutes'],
  ])('refuses %j with a 400 that says what is wrong (%s), and changes nothing', async (body, what) => {
    const c = await newClinic();
    const res = await patch(c.key, body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(what);
    const { rows } = await suite.pg.query('SELECT auto_no_show_after_minutes, time_zone FROM clinics WHERE id = $1', [c.clinicId]);
    expect(rows[0]).toEqual({ auto_no_show_after_minutes: null, time_zone: 'America/Sao_Paulo' });
  });

  it('refuses an out-of-range value in PostgreSQL too', async () => {
    const c = await newClinic();
    await expect(suite.pg.query('UPDATE clinics SET auto_no_show_after_minutes = 5000 WHERE id = $1', [c.clinicId])).rejects.toThrow(
      /clinics_auto_no_show_after_minutes_range/,
    );
  });
});

describe('automatic no-show sweep', () => {
  it('marks open appointments past the clinic\'s delay exactly once, through the normal transition', async () => {
    const on = await newClinic();
    await patch(on.key, { autoNoShowAfterMinutes: 30 });
    const off = await newClinic();
    const [pro, patient] = [await newProfessional(on.clinicId), await newPatient(on.clinicId)];
    const [offPro, offPatient] = [await newProfessional(off.clinicId), await newPatient(off.clinicId)];

    const due = await appointmentEnded(on.clinicId, pro.id, patient.id, 120);
    const dueConfirmed = await appointmentEnded(on.clinicId, pro.id, patient.id, 45, 'confirmed');
    const tooRecent = await appointmentEnded(on.clinicId, pro.id, patient.id, 10);
    const completed = await appointmentEnded(on.clinicId, pro.id, patient.id, 180, 'completed');
    const tooOld = await appointmentEnded(on.clinicId, pro.id, patient.id, 26 * 60); // due 25.5 h ago, past the 24 h lookback
    const future = await appointmentEnded(on.clinicId, pro.id, patient.id, -600);
    const otherClinic = await appointmentEnded(off.clinicId, offPro.id, offPatient.id, 120);

    // Two workers racing, then a later pass: each appointment is marked once.
    const results = await Promise.all([sweep(), sweep()]);
    const again = await sweep();
    expect(results.reduce((n, r) => n + r.marked, 0)).toBe(2);
    expect(again.marked).toBe(0);

    const status = async (id: string) => (await suite.pg.query('SELECT status FROM appointments WHERE id = $1', [id])).rows[0].status;
    expect(await status(due.id)).toBe('no_show');
    expect(await status(dueConfirmed.id)).toBe('no_show');
    for (const [a, s] of [[tooRecent, 'scheduled'], [completed, 'completed'], [tooOld, 'scheduled'], [future, 'scheduled'], [otherClinic, 'scheduled']] as const) {
      expect(await status(a.id)).toBe(s);
    }

    const history = await suite.pg.query(
      "SELECT appointment_id, from_status, reason FROM appointment_history WHERE action = 'no_show' AND appointment_id = ANY($1) ORDER BY appointment_id",
      [[due.id, dueConfirmed.id]],
    );
    expect(history.rows).toHaveLength(2);
    for (const h of history.rows) expect(h.reason).toBe('automatic: still open 30 min after its end');
    const events = await suite.pg.query("SELECT aggregate_id FROM outbox_events WHERE type = 'appointment.no_show' AND clinic_id = $1", [on.clinicId]);
    expect(events.rows.map((r) => r.aggregate_id).sort()).toEqual([due.id, dueConfirmed.id].sort());
  });

  it('a delay longer than the lookback still marks what fell due within it', async () => {
    const c = await newClinic();
    await patch(c.key, { autoNoShowAfterMinutes: 48 * 60 });
    const [pro, patient] = [await newProfessional(c.clinicId), await newPatient(c.clinicId)];
    const dueTwoHoursAgo = await appointmentEnded(c.clinicId, pro.id, patient.id, 50 * 60);
    const notDueYet = await appointmentEnded(c.clinicId, pro.id, patient.id, 47 * 60);
    const dueTooLongAgo = await appointmentEnded(c.clinicId, pro.id, patient.id, 73 * 60); // due 25 h ago
    await sweep();
    const status = async (id: string) => (await suite.pg.query('SELECT status FROM appointments WHERE id = $1', [id])).rows[0].status;
    expect([await status(dueTwoHoursAgo.id), await status(notDueYet.id), await status(dueTooLongAgo.id)]).toEqual(['no_show', 'scheduled', 'scheduled']);
  });

  it('skips an appointment completed by hand after the sweep found it', async () => {
    const c = await newClinic();
    await patch(c.key, { autoNoShowAfterMinutes: 0 });
    const [pro, patient] = [await newProfessional(c.clinicId), await newPatient(c.clinicId)];
    const a = await appointmentEnded(c.clinicId, pro.id, patient.id, 5);
    // Hold the row while the sweep runs, complete it, then let the sweep's transition see the new status.
    const tx = new Client({ connectionString: TEST_DIRECT_DATABASE_URL });
    await tx.connect();
    try {
      await tx.query('BEGIN');
      await tx.query('SELECT 1 FROM appointments WHERE id = $1 FOR UPDATE', [a.id]);
      const running = sweep();
      await waitForLockWaiter(a.id);
      await tx.query("UPDATE appointments SET status = 'completed' WHERE id = $1", [a.id]);
      await tx.query('COMMIT');
      const r = await running;
      expect(r).toMatchObject({ marked: 0, skipped: 1 });
    } finally {
      await tx.end();
    }
    expect((await suite.pg.query('SELECT status FROM appointments WHERE id = $1', [a.id])).rows[0].status).toBe('completed');
  });
});

/** Waits until some session is blocked on a row lock (the sweep's FOR UPDATE on the appointment). */
async function waitForLockWaiter(appointmentId: string) {
  await until(
    `a session waiting for appointment ${appointmentId}'s lock`,
    async () =>
      (
        await suite.pg.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%FOR UPDATE%' AND datname = current_database()",
        )
      ).rows[0]!.n,
    (n) => n > 0,
    { timeoutMs: 15_000, everyMs: 50 },
  );
}
