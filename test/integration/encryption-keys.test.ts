import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../lib/platform/db/migrator';
import { newClinic } from '../support/clinic';
import { get, post } from '../support/invoke';
import { startKmsStandIn, type KmsStandIn } from '../support/kms-stand-in';
import { useSuite } from '../support/suite';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';

/**
 * The key hierarchy against a local KMS stand-in, on a database of this file's own (it creates,
 * rotates and re-wraps data keys, which no other file should see): one KMS call per data key per
 * container, the backfill of plaintext rows, a data-key rotation with old values readable throughout,
 * a re-wrap under another KMS key, and errors that name the row, never the value.
 */
const suite = useSuite({
  modules: {
    patients: () => import('../../functions/http/patients'),
    dbClient: () => import('../../lib/platform/db/client'),
    keyring: () => import('../../lib/platform/crypto/keyring'),
    rotation: () => import('../../lib/platform/crypto/key-rotation'),
    reencrypt: () => import('../../lib/platform/crypto/reencrypt'),
    lifecycle: () => import('../../lib/platform/lifecycle/close-all'),
  },
});
const m = suite.m;

const dbUrl = new URL(TEST_DIRECT_DATABASE_URL);
dbUrl.pathname = `${dbUrl.pathname}_keys`;
const ENV = ['DATABASE_URL', 'DIRECT_DATABASE_URL', 'DB_POOLER', 'KMS_KEY_ID', 'KMS_ENDPOINT'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
let kms: KmsStandIn;
let pg: Client;

beforeAll(async () => {
  kms = await startKmsStandIn();
  await migrate({ databaseUrl: dbUrl.toString(), migrationsDir: path.join(__dirname, '..', '..', 'prisma', 'migrations'), createDatabase: true });
  Object.assign(process.env, { DATABASE_URL: dbUrl.toString(), DIRECT_DATABASE_URL: dbUrl.toString(), DB_POOLER: '', KMS_KEY_ID: 'agenda-test-key', KMS_ENDPOINT: kms.url });
  pg = new Client({ connectionString: dbUrl.toString() });
  await pg.connect();
  await suite.reload(); // a container under this environment
});
afterAll(async () => {
  await m.lifecycle.closeAll();
  await pg.end();
  await kms.close();
  for (const k of ENV) if (saved[k] === undefined) delete process.env[k];
  else process.env[k] = saved[k];
  const admin = new URL(TEST_DIRECT_DATABASE_URL);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${dbUrl.pathname.slice(1)}" WITH (FORCE)`);
  await c.end();
});

/** KMS requests made by what `fn` does. */
async function kmsCalls(fn: () => Promise<unknown>): Promise<string[]> {
  const from = kms.requests.length;
  await fn();
  return kms.requests.slice(from).map((r) => r.split(' ')[0]!);
}
const ring = async () => (await m.dbClient.getDb(), m.keyring.getKeyring(m.dbClient.getPoolIfCreated()!));
const keyIdsIn = async (sql: string) => (await pg.query<{ k: string }>(`SELECT DISTINCT split_part(v, ':', 3) AS k FROM (${sql}) s(v) WHERE v IS NOT NULL`)).rows.map((r) => r.k).sort();
const patientsOf = async (auth: object) => (await get(m.patients.list, '/v1/patients?limit=100', auth)).body.data as { id: string; email: string | null; phone: string | null }[];
const lookup = async (email: string, auth: object) => ((await get(m.patients.list, `/v1/patients?email=${email}`, auth)).body.data as { id: string }[]).map((p) => p.id);

let clinic: Awaited<ReturnType<typeof newClinic>>;

it('makes each data key once per container with KMS, never per field', async () => {
  const calls = await kmsCalls(async () => {
    clinic = await newClinic();
    for (let i = 0; i < 4; i++) {
      const res = await post(m.patients.create, '/v1/patients', { name: `P${i}`, email: `p${i}@example.com`, phone: `+55119000000${i}0` }, clinic.auth);
      expect(res.status).toBe(201);
    }
  });
  expect(calls.sort()).toEqual(['TrentService.GenerateDataKey', 'TrentService.GenerateDataKey']); // the data key and the hash key
  const { rows } = await pg.query('SELECT purpose, wrapping_key_id, active FROM data_keys ORDER BY purpose');
  expect(rows).toEqual([
    { purpose: 'data', wrapping_key_id: kms.arnOf('agenda-test-key'), active: true },
    { purpose: 'hash', wrapping_key_id: kms.arnOf('agenda-test-key'), active: true },
  ]);
});

it('a new container unwraps each key once, however many reads run at once', async () => {
  await suite.reload();
  const calls = await kmsCalls(() =>
    Promise.all([...Array(5)].flatMap(() => [patientsOf(clinic.auth), lookup('p1@example.com', clinic.auth)])).then((pages) => {
      expect((pages[0] as { email: string }[]).map((p) => p.email).sort()).toEqual(['p0@example.com', 'p1@example.com', 'p2@example.com', 'p3@example.com']);
      expect(pages[1]).toHaveLength(1);
    }),
  );
  expect(calls).toEqual(['TrentService.Decrypt', 'TrentService.Decrypt']);
});

it('reads plaintext rows as they are until the backfill seals them, in batches', async () => {
  const { rows } = await pg.query<{ id: string }>(
    `INSERT INTO patients (clinic_id, name, email, phone) VALUES ($1, 'Legacy 1', 'legacy1@example.com', '+5511988887777'),
       ($1, 'Legacy 2', 'legacy2@example.com', NULL), ($1, 'Legacy 3', NULL, '+5511977776666') RETURNING id`,
    [clinic.clinicId],
  );
  const ids = rows.map((r) => r.id);
  const before = await patientsOf(clinic.auth);
  expect(before.find((p) => p.id === ids[0])).toMatchObject({ email: 'legacy1@example.com', phone: '+5511988887777' });
  expect(await lookup('legacy1@example.com', clinic.auth)).toEqual([]); // no hash yet

  const reports = await m.reencrypt.reencryptAll(await ring(), 2);
  expect(reports.find((r) => r.table === 'patients')).toEqual({ table: 'patients', updated: 3, failed: 0, raced: 0 });
  const text = (await pg.query(`SELECT string_agg(row_to_json(p)::text, '') AS t FROM patients p WHERE id = ANY($1)`, [ids])).rows[0].t as string;
  for (const plain of ['legacy1@', 'legacy2@', '988887777', '977776666']) expect(text).not.toContain(plain);
  expect(await patientsOf(clinic.auth)).toEqual(before);
  expect(await lookup('LEGACY1@example.com', clinic.auth)).toEqual([ids[0]]);
  // Nothing left to do: a second run changes nothing.
  expect((await m.reencrypt.reencryptAll(await ring(), 2)).every((r) => r.updated === 0)).toBe(true);
});

it('rotates the data key: old values read throughout, then all sealed under the new key', async () => {
  const [oldKey] = await keyIdsIn('SELECT email FROM patients');
  const expected = await patientsOf(clinic.auth);
  expect(await kmsCalls(async () => m.rotation.rotateKey(await ring(), 'data'))).toEqual(['TrentService.GenerateDataKey']);
  const { rows } = await pg.query<{ id: string }>("SELECT id::text FROM data_keys WHERE purpose = 'data' AND active");
  const newKey = rows[0]!.id;
  expect(newKey).not.toBe(oldKey);

  await suite.reload(); // a container that learns of the rotation: both keys in use
  expect(await patientsOf(clinic.auth)).toEqual(expected);
  await post(m.patients.create, '/v1/patients', { name: 'After', email: 'after@example.com' }, clinic.auth);
  expect(await keyIdsIn('SELECT email FROM patients')).toEqual([oldKey, newKey].sort());

  const reports = await m.reencrypt.reencryptAll(await ring(), 3);
  expect(reports.find((r) => r.table === 'patients')?.failed).toBe(0);
  expect(await keyIdsIn('SELECT email FROM patients UNION ALL SELECT phone FROM patients')).toEqual([newKey]);
  await suite.reload();
  const calls = await kmsCalls(async () => expect((await patientsOf(clinic.auth)).slice(0, expected.length)).toEqual(expected));
  expect(calls).toEqual(['TrentService.Decrypt']); // only the new key is needed now
});

it('re-wraps the data keys under another KMS key without touching a row', async () => {
  const sealed = (await pg.query('SELECT email FROM patients ORDER BY id')).rows;
  process.env.KMS_KEY_ID = 'agenda-test-key-2';
  await suite.reload();
  const calls = await kmsCalls(async () => expect(await m.rotation.rewrapKeys(await ring())).toBe(3));
  expect(calls.filter((c) => c === 'TrentService.Encrypt')).toHaveLength(3);
  const { rows } = await pg.query('SELECT DISTINCT wrapping_key_id FROM data_keys');
  expect(rows).toEqual([{ wrapping_key_id: kms.arnOf('agenda-test-key-2') }]);
  expect((await pg.query('SELECT email FROM patients ORDER BY id')).rows).toEqual(sealed);
  await suite.reload();
  const reads = kms.requests.length;
  expect((await patientsOf(clinic.auth)).length).toBeGreaterThan(0);
  expect(kms.requests.slice(reads)).toEqual([`TrentService.Decrypt ${kms.arnOf('agenda-test-key-2')}`]);
});

it('names the field and the row, never the value, when a stored value was altered', async () => {
  const { rows } = await pg.query<{ id: string; email: string }>("SELECT id::text, email FROM patients WHERE email IS NOT NULL ORDER BY id LIMIT 1");
  const { id, email } = rows[0]!;
  const altered = email.slice(0, -2) + (email.at(-2) === 'A' ? 'B' : 'A') + email.slice(-1); // a tag byte changed
  await pg.query('UPDATE patients SET email = $2 WHERE id = $1', [id, altered]);
  const db = await m.dbClient.getDb();
  const err = (await db.patient.findUnique({ where: { id } }).catch((e: Error) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain(`email of row ${id}`);
  expect(err.message).not.toMatch(/@example\.com/);
  const reports = await m.reencrypt.reencryptAll(await ring(), 10);
  expect(reports.find((r) => r.table === 'patients')?.failed).toBe(0); // under the active key already: not touched
});
