/**
 * No double booking, enforced by PostgreSQL: 50 concurrent requests for one slot from two
 * processes (this Jest process and a child with its own pool and Redis client): exactly one 201,
 * 49 × 409 slot_taken, one row in the table.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import { childEnv } from '../support/processes';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

const root = path.join(__dirname, '..', '..');

// Each process stands in for many Lambda containers (25 requests at once, where production would
// spread them over 25 containers with a pool of 2 each): give it a pool and a wait to match, so the
// race is decided by PostgreSQL's constraint, not by waiting for a pooled connection.
const POOL_ENV = { AGENDA_PROFILE: 'api', DB_POOL_MAX: '5', DB_CONNECT_TIMEOUT_MS: '10000' };

const suite = useSuite({ env: POOL_ENV, modules: { appts: () => import('../../functions/http/appointments') }, pg: true });
const { appts } = suite.m;

function runChild(arg: object): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['test/support/book-concurrently.ts', JSON.stringify(arg)], {
      cwd: root,
      env: childEnv({ LOG_LEVEL: 'SILENT', ...POOL_ENV }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = /^RESULT (.*)$/m.exec(out)?.[1];
      if (code !== 0 || !line) reject(new Error(`child exited ${code}:\n${out.slice(-3000)}`));
      else resolve(JSON.parse(line) as number[]);
    });
  });
}

it('50 concurrent bookings of one slot from two processes: exactly one 201, 49 × 409', async () => {
  const c = await newClinic();
  const pro = await newProfessional(c.clinicId, { bufferAfterMinutes: 5 });
  const patients = await Promise.all(Array.from({ length: 5 }, () => newPatient(c.clinicId)));
  const { create } = appts;
  const startsAt = localAt(4, 14);
  const body = (i: number) => ({ professionalId: pro.id, patientId: patients[i % 5]!.id, startsAt });
  // Warm this process's container first, as the child warms its own: the race is then on the booking.
  await post(create, '/v1/appointments', { ...body(0), startsAt: 'not-a-date' }, c.auth);

  const [child, local] = await Promise.all([
    runChild({ key: c.key, body: body(1), count: 25 }),
    Promise.all(Array.from({ length: 25 }, (_, i) => post(create, '/v1/appointments', body(i), c.auth))),
  ]);
  const statuses = [...child, ...local.map((r) => r.status)];
  const count = (s: number) => statuses.filter((x) => x === s).length;
  console.info(`double-booking: child ${JSON.stringify(child)}, local ${JSON.stringify(local.map((r) => r.status))}`);
  expect(statuses).toHaveLength(50);
  expect(count(201)).toBe(1);
  expect(count(409)).toBe(49);
  for (const r of local.filter((x) => x.status === 409)) expect(r.body.error).toMatchObject({ code: 'conflict', details: { reason: 'slot_taken' } });

  const rows = await suite.pg.query('SELECT count(*)::int AS n FROM appointments WHERE professional_id = $1', [pro.id]);
  expect(rows.rows[0].n).toBe(1);
  const events = await suite.pg.query(
    `SELECT count(*)::int AS n FROM outbox_events WHERE type = 'appointment.created' AND payload->>'professionalId' = $1`,
    [pro.id],
  );
  expect(events.rows[0].n).toBe(1); // the 49 refused bookings wrote no event
});
