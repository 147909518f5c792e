/**
 * No patient address where it does not belong (issue 12, item 5), end to end: a real SMTP server
 * refuses the recipient with `550 5.1.1 <maria.silva@example.com>: Recipient address rejected`
 * (nodemailer quotes that reply in its error); a booking made here goes through the worker
 * container's own process (tsx worker/main.ts, on this file's queue prefix) until the notice's job
 * has failed every attempt. Then every line the worker wrote, every Redis key under the prefix
 * (read by type) and the notice's row are searched: the address is nowhere, and the failure reason
 * still says what happened. Only the waits between attempts are skipped, with BullMQ's own promote.
 */
import type { Job } from 'bullmq';
import { newClinic } from '../support/clinic';
import { startWorker, type Worker } from '../support/processes';
import { localAt, newProfessional } from '../support/scheduling-fixtures';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { useSuite } from '../support/suite';
import { until } from '../support/until';

const ADDRESS = 'maria.silva@example.com';

const suite = useSuite({
  env: { AGENDA_PROFILE: 'api' },
  modules: {
    appointments: () => import('../../lib/domain/appointments/service'),
    queues: () => import('../../lib/platform/queues/queues'),
    db: () => import('../../lib/platform/db/client'),
    redis: () => import('../../lib/platform/redis/client'),
  },
  pg: true,
  obliterateQueues: true,
});
const c = suite.m;
let smtp: SmtpSink;
let worker: Worker;

beforeAll(async () => {
  smtp = await startSmtpSink({ rejectRecipient: (to) => `5.1.1 <${to}>: Recipient address rejected` });
  worker = await startWorker({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SMTP_TIMEOUT_MS: '2000', LOG_LEVEL: 'DEBUG' });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await smtp?.close();
});

/** Every value stored under the prefix, read by the key's type, as `key: value` lines. */
async function dumpRedis(prefix: string): Promise<string> {
  const redis = await c.redis.getRedis();
  const lines: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
        : type === 'hash' ? await redis.hgetall(key)
        : type === 'list' ? await redis.lrange(key, 0, -1)
        : type === 'set' ? await redis.smembers(key)
        : type === 'zset' ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
        : type === 'stream' ? await redis.xrange(key, '-', '+')
        : `<${type}>`;
      lines.push(`${key} (${type}): ${JSON.stringify(value)}`);
    }
  } while (cursor !== '0');
  return lines.join('\n');
}

it('an SMTP 550 quoting the address leaves it in no log line, no Redis key and no row; the reason says what happened', async () => {
  const clinic = await newClinic();
  const pro = await newProfessional(clinic.clinicId);
  const db = await c.db.getDb();
  const patient = await db.patient.create({ data: { clinicId: clinic.clinicId, name: 'Maria Silva', email: ADDRESS, notifyInApp: false } });
  const appt = await c.appointments.createAppointment(
    { clinicId: clinic.clinicId, timeZone: 'America/Sao_Paulo' },
    { professionalId: pro.id, patientId: patient.id, startsAt: localAt(3, 10, 0) },
  );

  // The worker processes the booking's event and records the confirmation e-mail.
  const notice = await until('the confirmation e-mail notice', async () => {
    const { rows } = await suite.pg.query<{ id: string }>(
      "SELECT id FROM notifications WHERE appointment_id = $1 AND channel = 'email' AND kind = 'confirmation'", [appt.id]);
    return rows[0];
  }, (r) => r !== undefined, { context: () => worker.output().slice(-3000) });

  // Each attempt really goes to the server and fails; a delayed retry is promoted instead of waited for.
  const queue = await c.queues.getNotificationQueue();
  const failed = await until('the send failed for good', async () => {
    const job = (await queue.getJob(notice!.id)) as Job | undefined;
    const state = await job?.getState();
    if (state === 'delayed') await job!.promote().catch(() => undefined);
    return { state, attemptsMade: job?.attemptsMade, failedReason: job?.failedReason, stacktrace: job?.stacktrace };
  }, (v) => v.state === 'failed', { timeoutMs: 90_000, everyMs: 100, context: () => worker.output().slice(-3000) });

  expect(failed.attemptsMade).toBe(8); // the queue's attempts, every one refused by the server
  expect(smtp.rejected.filter((to) => to === ADDRESS)).toHaveLength(8);
  expect(failed.failedReason).toMatch(/550 5\.1\.1 <\[email\]>: Recipient address rejected/);
  expect(failed.stacktrace!.length).toBeGreaterThan(0);

  // Let the worker's last lines (job.failed) reach its stdout.
  const logs = await until('the last failure logged', () => worker.output(), (out) => (out.match(/"message":"job.failed"/g) ?? []).length >= 8);
  const prefix = process.env.QUEUE_PREFIX!;
  const redisDump = await dumpRedis(prefix);
  const { rows } = await suite.pg.query<{ row: string }>('SELECT row_to_json(n)::text AS row FROM notifications n WHERE id = $1', [notice!.id]);

  for (const [where, text] of [['worker logs', logs], ['Redis', redisDump], ['notification row', rows[0]!.row]] as const) {
    expect({ where, leaked: text.includes(ADDRESS) || text.includes('maria.silva') }).toEqual({ where, leaked: false });
  }
  // What happened is still there: in the log lines, in the job hash, on the row.
  expect(logs).toMatch(/"message":"job.failed".*550 5\.1\.1 <\[email\]>: Recipient address rejected/);
  expect(redisDump).toContain(notice!.id);
  expect(redisDump).toMatch(/failedReason.*550 5\.1\.1 <\[email\]>: Recipient address rejected/);
  expect(JSON.parse(rows[0]!.row)).toMatchObject({ status: 'failed', attempts: 8, last_error: expect.stringMatching(/550 5\.1\.1 <\[email\]>/) });
}, 150_000);
