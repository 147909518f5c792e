/**
 * Scoped API keys (issue 12, item 7), through the real handlers and database: each route class
 * refuses a key without its scope with 403 `insufficient_scope` naming the scope, a key mints only
 * keys within its own scopes, the bootstrap key holds all three, and the per-clinic key cap holds
 * under 20 concurrent mints (the clinic's row is locked while active keys are counted).
 */
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../lib/platform/db/migrator';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { invoke, get, post } from '../support/invoke';
import { newClinic } from '../support/clinic';
import { useSuite } from '../support/suite';

const ADMIN_SECRET = 'api-key-scopes-admin-secret-0123456789';
const CAP = 6;

const suite = useSuite({
  env: { ADMIN_SECRET, API_KEYS_PER_CLINIC_MAX: String(CAP), DB_POOL_MAX: '8' },
  modules: {
    clinicFns: () => import('../../functions/http/clinic'),
    patients: () => import('../../functions/http/patients'),
    webhooks: () => import('../../functions/http/webhooks'),
    appointments: () => import('../../functions/http/appointments'),
    adminFns: () => import('../../functions/http/admin'),
  },
  pg: true,
});
const { clinicFns, patients, webhooks, appointments, adminFns } = suite.m;

const bearer = (key: string, lang = 'en') => ({ headers: { authorization: `Bearer ${key}`, 'accept-language': lang } });

/** A clinic (bootstrap key: every scope) and one key per scope set asked for, minted over HTTP. */
async function clinicWithKeys(...sets: string[][]) {
  const clinic = await newClinic();
  const keys: string[] = [];
  for (const scopes of sets) {
    const res = await post(clinicFns.create, '/v1/api-keys', { name: scopes.join('+'), scopes }, clinic.auth);
    expect(res.status).toBe(201);
    expect(res.body.scopes).toEqual(scopes);
    keys.push(res.body.key);
  }
  return { ...clinic, keys };
}

const expect403 = (res: { status: number; body: any }, scope: string | string[]) => {
  expect(res.status).toBe(403);
  expect(res.body.error).toMatchObject({ code: 'insufficient_scope', details: { requiredScope: scope } });
};

describe('scopes per route class', () => {
  it('a read key reads, and cannot write nor administer', async () => {
    const { keys: [read] } = await clinicWithKeys(['read']);
    expect((await get(patients.list, '/v1/patients', bearer(read!))).status).toBe(200);
    expect((await get(clinicFns.clinic, '/v1/clinic', bearer(read!))).status).toBe(200);
    expect((await post(clinicFns.ticket, '/v1/realtime/tickets', undefined, bearer(read!))).status).toBe(201);
    const refused = await post(patients.create, '/v1/patients', { name: 'Maria' }, bearer(read!));
    expect403(refused, 'write');
    expect(refused.body.error.message).toBe('This API key lacks the write scope');
    expect403(await post(appointments.create, '/v1/appointments', {}, bearer(read!)), 'write');
    expect403(await post(clinicFns.create, '/v1/api-keys', { name: 'x' }, bearer(read!)), 'admin');
  });

  it('answers in pt-BR by default, with the scope named in details', async () => {
    const { keys: [read] } = await clinicWithKeys(['read']);
    const res = await post(patients.create, '/v1/patients', { name: 'Maria' }, bearer(read!, 'pt-BR'));
    expect403(res, 'write');
    expect(res.body.error.message).toBe('Esta chave de API não tem o escopo que esta requisição exige.');
  });

  it('a write key changes data, and cannot mint or revoke keys, manage webhooks or change clinic settings', async () => {
    const { keys: [write], clinicId } = await clinicWithKeys(['write']);
    expect((await post(patients.create, '/v1/patients', { name: 'Maria' }, bearer(write!))).status).toBe(201);
    expect403(await get(patients.list, '/v1/patients', bearer(write!)), 'read'); // scopes do not imply one another
    expect403(await post(clinicFns.create, '/v1/api-keys', { name: 'x', scopes: ['write'] }, bearer(write!)), 'admin');
    const { rows: [own] } = await suite.pg.query<{ id: string }>('SELECT id::text FROM api_keys WHERE clinic_id = $1 ORDER BY created_at LIMIT 1', [clinicId]);
    const revoke = await invoke(clinicFns.revoke, { method: 'DELETE', path: `/v1/api-keys/${own!.id}`, pathParameters: { id: own!.id }, ...bearer(write!) });
    expect403(revoke, 'admin');
    expect403(await get(webhooks.list, '/v1/webhooks', bearer(write!)), 'admin');
    expect403(await post(webhooks.create, '/v1/webhooks', { url: 'https://example.com/h', eventTypes: ['appointment.created'] }, bearer(write!)), 'admin');
    expect403(await invoke(clinicFns.update, { method: 'PATCH', path: '/v1/clinic', body: { name: 'X' }, ...bearer(write!) }), 'admin');
  });

  it('an admin key mints, lists and revokes keys and manages webhooks; the bootstrap key holds all three scopes', async () => {
    const boot = await post(adminFns.createClinic, '/admin/clinics', { name: 'Scopes' }, { headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
    expect(boot.status).toBe(201);
    expect(boot.body.apiKey.scopes).toEqual(['read', 'write', 'admin']);
    const admin = bearer(boot.body.apiKey.key);
    const minted = await post(clinicFns.create, '/v1/api-keys', { name: 'front desk' }, admin);
    expect(minted.status).toBe(201);
    expect(minted.body.scopes).toEqual(['read', 'write']); // the default: never admin
    const listed = await get(clinicFns.list, '/v1/api-keys', admin);
    expect(listed.body.data.map((k: { scopes: string[] }) => k.scopes)).toEqual([['read', 'write', 'admin'], ['read', 'write']]);
    expect((await get(webhooks.list, '/v1/webhooks', admin)).status).toBe(200);
    const revoked = await invoke(clinicFns.revoke, { method: 'DELETE', path: `/v1/api-keys/${minted.body.id}`, pathParameters: { id: minted.body.id }, ...admin });
    expect(revoked.status).toBe(204);
  });
});

describe('the migration', () => {
  const MIGRATIONS = path.join(__dirname, '..', '..', 'prisma', 'migrations');
  const OURS = '20261205110000_api_key_scopes';
  const database = `agenda_scopes_${randomUUID().slice(0, 8)}`;
  const url = Object.assign(new URL(TEST_DIRECT_DATABASE_URL), { pathname: `/${database}` }).toString();
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await suite.pg.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('gives keys that existed before it every scope, and new keys read and write', async () => {
    // A database migrated up to the one before, with a clinic and its key, then this migration.
    dir = await mkdtemp(path.join(os.tmpdir(), 'agenda-scopes-migration-'));
    for (const entry of await readdir(MIGRATIONS)) if (entry < OURS) await cp(path.join(MIGRATIONS, entry), path.join(dir, entry), { recursive: true });
    await migrate({ databaseUrl: url, migrationsDir: dir, createDatabase: true });
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      const { rows: [clinic] } = await db.query<{ id: string }>(`INSERT INTO clinics (name) VALUES ('Before') RETURNING id`);
      await db.query(`INSERT INTO api_keys (clinic_id, name, prefix, key_hash) VALUES ($1, 'old', $2, $3)`, [clinic!.id, 'oldkey000001', '0'.repeat(64)]);
      await cp(path.join(MIGRATIONS, OURS), path.join(dir, OURS), { recursive: true });
      expect((await migrate({ databaseUrl: url, migrationsDir: dir })).applied).toEqual([OURS]);
      await db.query(`INSERT INTO api_keys (clinic_id, name, prefix, key_hash) VALUES ($1, 'new', $2, $3)`, [clinic!.id, 'newkey000001', '0'.repeat(64)]);
      const { rows } = await db.query<{ name: string; scopes: string[] }>('SELECT name, scopes FROM api_keys ORDER BY name');
      expect(rows).toEqual([{ name: 'new', scopes: ['read', 'write'] }, { name: 'old', scopes: ['read', 'write', 'admin'] }]);
      // The CHECK keeps the column to known scopes, at least one.
      for (const bad of ['{}', '{root}', null]) {
        await expect(db.query(`UPDATE api_keys SET scopes = $1 WHERE name = 'new'`, [bad])).rejects.toThrow(/api_keys_scopes_known/);
      }
    } finally {
      await db.end();
    }
  });
});

describe('minting only subsets', () => {
  it('refuses scopes the minting key lacks, naming them, and mints a narrower key', async () => {
    const { keys: [adminOnly, adminRead] } = await clinicWithKeys(['admin'], ['read', 'admin']);
    expect403(await post(clinicFns.create, '/v1/api-keys', { name: 'x' }, bearer(adminOnly!)), ['read', 'write']);
    expect403(await post(clinicFns.create, '/v1/api-keys', { name: 'x', scopes: ['read', 'write'] }, bearer(adminRead!)), ['write']);
    const narrower = await post(clinicFns.create, '/v1/api-keys', { name: 'reader', scopes: ['read'] }, bearer(adminRead!));
    expect(narrower.status).toBe(201);
    expect(narrower.body.scopes).toEqual(['read']);
  });

  it('refuses unknown, repeated and empty scope lists with 400', async () => {
    const a = await newClinic();
    for (const scopes of [['root'], ['read', 'read'], [], 'read']) {
      const res = await post(clinicFns.create, '/v1/api-keys', { name: 'x', scopes }, a.auth);
      expect([JSON.stringify(scopes), res.status]).toEqual([JSON.stringify(scopes), 400]);
      expect(res.body.error.details[0].field).toMatch(/^scopes/);
    }
  });
});

describe('key cap', () => {
  it(`lets ${CAP} active keys exist and no more, under 20 concurrent mints; revoking one frees a place`, async () => {
    const a = await newClinic(); // 1 active key
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(clinicFns.create, '/v1/api-keys', { name: `k${i}`, scopes: ['read'] }, a.auth)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(CAP - 1).fill(201), ...Array(20 - CAP + 1).fill(409)]);
    const refused = results.find((r) => r.status === 409)!;
    expect(refused.body.error).toMatchObject({ code: 'conflict', details: { reason: 'api_key_limit', limit: CAP } });
    expect(refused.body.error.message).toBe('The clinic has reached its limit of active API keys. Revoke one first.');
    const active = await suite.pg.query('SELECT count(*)::int AS n FROM api_keys WHERE clinic_id = $1 AND revoked_at IS NULL', [a.clinicId]);
    expect(active.rows[0].n).toBe(CAP);

    const victim = results.find((r) => r.status === 201)!.body.id as string;
    expect((await invoke(clinicFns.revoke, { method: 'DELETE', path: `/v1/api-keys/${victim}`, pathParameters: { id: victim }, ...a.auth })).status).toBe(204);
    expect((await post(clinicFns.create, '/v1/api-keys', { name: 'again' }, a.auth)).status).toBe(201);
    expect((await post(clinicFns.create, '/v1/api-keys', { name: 'one too many' }, a.auth)).status).toBe(409);
  });
});
