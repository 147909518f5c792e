import { get, invoke, post } from '../support/invoke';
import { newClinic } from '../support/clinic';
import { useSuite } from '../support/suite';

const ADMIN_SECRET = 'tenancy-test-admin-secret';

const { fns, adminFns } = useSuite({
  env: { ADMIN_SECRET },
  modules: { fns: () => import('../../functions/http/clinic'), adminFns: () => import('../../functions/http/admin') },
}).m;

describe('clinics and API keys', () => {
  it('bootstraps a clinic behind the admin secret and shows its key once', async () => {
    const denied = await post(adminFns.createClinic, '/admin/clinics', { name: 'X' });
    expect(denied.status).toBe(401);

    const res = await post(adminFns.createClinic, '/admin/clinics', { name: 'Clínica Boa Vista', timeZone: 'America/Recife' }, {
      headers: { authorization: `Bearer ${ADMIN_SECRET}` },
    });
    expect(res.status).toBe(201);
    expect(res.body.clinic).toMatchObject({ name: 'Clínica Boa Vista', timeZone: 'America/Recife', reminderOffsetsMinutes: [1440, 120] });
    expect(res.body.apiKey.key).toMatch(/^agk_[a-z0-9]{12}_/);

    const me = await get(fns.clinic, '/v1/clinic', { headers: { authorization: `Bearer ${res.body.apiKey.key}` } });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(res.body.clinic.id);

    const keys = await get(fns.list, '/v1/api-keys', { headers: { authorization: `Bearer ${res.body.apiKey.key}` } });
    expect(keys.body.data).toHaveLength(1);
    expect(JSON.stringify(keys.body)).not.toContain(res.body.apiKey.key); // never shown again
    expect(JSON.stringify(keys.body)).not.toMatch(/keyHash|key_hash/);
  });

  it('rejects unknown time zones and bad bodies with 400 naming the field', async () => {
    const admin = { headers: { authorization: `Bearer ${ADMIN_SECRET}` } };
    const tz = await post(adminFns.createClinic, '/admin/clinics', { name: 'X', timeZone: 'Mars/Olympus' }, admin);
    expect(tz.status).toBe(400);
    expect(tz.body.error.details).toEqual([{ field: 'timeZone', problem: 'unknown time zone' }]);
    const nul = await post(adminFns.createClinic, '/admin/clinics', { name: 'a\u0000b' }, admin);
    expect(nul.status).toBe(400);
    const malformed = await post(adminFns.createClinic, '/admin/clinics', '{"name":', admin);
    expect(malformed.status).toBe(400);
  });

  it('answers 401 for missing, malformed, unknown and revoked keys alike', async () => {
    const a = await newClinic();
    const second = await post(fns.create, '/v1/api-keys', { name: 'integration' }, a.auth);
    expect(second.status).toBe(201);
    const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: `Bearer ${a.key.slice(0, -1)}x` }]) {
      const res = await get(fns.clinic, '/v1/clinic', { headers });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    expect((await get(fns.clinic, '/v1/clinic', bearer(second.body.key))).status).toBe(200);
    const revoked = await invoke(fns.revoke, { method: 'DELETE', path: `/v1/api-keys/${second.body.id}`, pathParameters: { id: second.body.id }, ...a.auth });
    expect(revoked.status).toBe(204);
    expect((await get(fns.clinic, '/v1/clinic', bearer(second.body.key))).status).toBe(401);
  });

  it("treats another clinic's key id as not found", async () => {
    const a = await newClinic();
    const b = await newClinic();
    const bKeys = await get(fns.list, '/v1/api-keys', b.auth);
    const id = bKeys.body.data[0].id;
    const res = await invoke(fns.revoke, { method: 'DELETE', path: `/v1/api-keys/${id}`, pathParameters: { id }, ...a.auth });
    expect(res.status).toBe(404);
    expect((await get(fns.clinic, '/v1/clinic', b.auth)).status).toBe(200); // still valid
  });
});

describe('messages for people', () => {
  it('speaks pt-BR by default and English when asked; codes stay English', async () => {
    const pt = await get(fns.clinic, '/v1/clinic', { headers: { 'accept-language': 'pt-BR' } });
    expect(pt.status).toBe(401);
    expect(pt.headers['content-language']).toBe('pt-BR');
    expect(pt.body.error).toMatchObject({ code: 'unauthorized', message: 'Credenciais ausentes ou inválidas.' });
    const en = await get(fns.clinic, '/v1/clinic', { headers: { 'accept-language': 'en-US,en;q=0.9' } });
    expect(en.body.error).toMatchObject({ code: 'unauthorized', message: 'Missing or invalid API key' });
  });
});
