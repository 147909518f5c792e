/**
 * Idempotency-Key on POST /v1 routes, against the real PostgreSQL: replay, 422 on reuse for another
 * request, concurrent requests executing once, 5xx releasing the key, 4xx replayed, expiry.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { newClinic } from '../support/clinic';
import { post } from '../support/invoke';
import type { HttpResult } from '../../lib/http/response';

process.env.RATE_LIMIT_POINTS = '100000'; // this file is about idempotency, not the rate budget

type ApiKeys = typeof import('../../functions/http/clinic');
type Routes = typeof import('../../lib/http/routes/clinic');
let fns: ApiKeys;
let clinicRoute: Routes['clinicRoute'];
let json: typeof import('../../lib/http/response').json;
let pg: Client;

beforeAll(async () => {
  fns = require('../../functions/http/clinic');
  clinicRoute = require('../../lib/http/routes/clinic').clinicRoute;
  json = require('../../lib/http/response').json;
  pg = new Client({ connectionString: TEST_DIRECT_DATABASE_URL, application_name: 'agenda-test-idempotency' });
  await pg.connect();
});
afterAll(async () => {
  await pg?.end();
  await require('../../lib/platform/lifecycle/close-all').closeAll();
});

const keyCount = async (clinicId: string) =>
  Number((await pg.query('SELECT count(*) FROM api_keys WHERE clinic_id = $1', [clinicId])).rows[0].count);
const idemRows = async (clinicId: string, key: string) =>
  (await pg.query('SELECT status_code, completed_at, expires_at, created_at FROM idempotency_keys WHERE clinic_id = $1 AND key = $2', [clinicId, key])).rows;
const withKey = (auth: { headers: Record<string, string> }, key: string) => ({ headers: { ...auth.headers, 'idempotency-key': key } });

/** A /v1 route built on clinicRoute whose behaviour and call count the test controls. */
function scriptedRoute(script: (call: number) => Promise<HttpResult> | HttpResult) {
  let calls = 0;
  const handler = clinicRoute('write', async () => script(++calls));
  return { handler, calls: () => calls };
}

describe('Idempotency-Key on POST /v1', () => {
  it('replays the first response for a retry with the same key and body, running the route once', async () => {
    const a = await newClinic();
    const key = `create-key-${randomUUID()}`;
    const first = await post(fns.create, '/v1/api-keys', { name: 'integration' }, withKey(a.auth, key));
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await keyCount(a.clinicId)).toBe(2);

    // Same meaning, other key order and spacing: still the same request.
    const retry = await post(fns.create, '/v1/api-keys', ' { "name" : "integration" } ', {
      headers: { ...withKey(a.auth, key).headers, 'content-type': 'application/json' },
    });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.headers['content-type']).toMatch(/application\/json/);
    expect(retry.rawBody).toBe(first.rawBody); // byte for byte: the same key secret, once
    expect(await keyCount(a.clinicId)).toBe(2);

    const [row] = await idemRows(a.clinicId, key);
    expect(row.status_code).toBe(201);
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeGreaterThanOrEqual(24 * 3600 * 1000);

    // Without the header every POST runs.
    expect((await post(fns.create, '/v1/api-keys', { name: 'integration' }, a.auth)).status).toBe(201);
    expect(await keyCount(a.clinicId)).toBe(3);
  });

  it('answers 422 for the same key with another body or another path, and runs nothing', async () => {
    const a = await newClinic();
    const key = randomUUID();
    expect((await post(fns.create, '/v1/api-keys', { name: 'one' }, withKey(a.auth, key))).status).toBe(201);

    const otherBody = await post(fns.create, '/v1/api-keys', { name: 'two' }, withKey(a.auth, key));
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.error).toMatchObject({ code: 'idempotency_key_reused', details: { problem: 'different body' } });

    const route = scriptedRoute(() => json(201, { ok: true }));
    const otherPath = await post(route.handler, '/v1/patients', { name: 'one' }, withKey(a.auth, key));
    expect(otherPath.status).toBe(422);
    expect(otherPath.body.error.details.problem).toBe('different method or path');
    expect(route.calls()).toBe(0);
    expect(await keyCount(a.clinicId)).toBe(2);
  });

  it('keeps keys per clinic: another clinic may use the same key', async () => {
    const a = await newClinic();
    const b = await newClinic();
    const key = `shared-${randomUUID()}`;
    const ra = await post(fns.create, '/v1/api-keys', { name: 'same' }, withKey(a.auth, key));
    const rb = await post(fns.create, '/v1/api-keys', { name: 'same' }, withKey(b.auth, key));
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
    expect(rb.body.id).not.toBe(ra.body.id);
    expect([await keyCount(a.clinicId), await keyCount(b.clinicId)]).toEqual([2, 2]);
  });

  it('executes concurrent requests with one key once', async () => {
    const a = await newClinic();
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => post(fns.create, '/v1/api-keys', { name: 'concurrent' }, withKey(a.auth, key))),
    );
    const statuses = results.map((r) => r.status);
    expect(await keyCount(a.clinicId)).toBe(2); // the route ran exactly once
    const executed = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
    expect(executed).toHaveLength(1);
    for (const r of results) {
      if (r.status === 201) expect(r.rawBody).toBe(executed[0]!.rawBody);
      else {
        expect(r.status).toBe(409);
        expect(r.headers['retry-after']).toBe('1');
        expect(r.body.error.code).toBe('idempotency_in_progress');
      }
    }
    console.info(`idempotency: 8 concurrent requests, statuses ${statuses.join(', ')}`);
  });

  it('answers 409 with Retry-After 1 while the first request runs, then replays it', async () => {
    const a = await newClinic();
    const key = randomUUID();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const route = scriptedRoute(async (n) => {
      await gate;
      return json(202, { call: n });
    });
    const first = post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key));
    while ((await idemRows(a.clinicId, key)).length === 0) await new Promise((r) => setTimeout(r, 10));

    const during = await post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key));
    expect(during.status).toBe(409);
    expect(during.headers['retry-after']).toBe('1');
    expect(during.body.error.code).toBe('idempotency_in_progress');

    release();
    expect((await first).body).toEqual({ call: 1 });
    const after = await post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key));
    expect(after.status).toBe(202);
    expect(after.body).toEqual({ call: 1 });
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(route.calls()).toBe(1);
  });

  it('does not store a 5xx: the key is released and a retry runs the route again', async () => {
    const a = await newClinic();
    const key = randomUUID();
    const route = scriptedRoute((n) => {
      if (n === 1) throw new Error('boom'); // an unexpected error: 500
      if (n === 2) return json(503, { error: { code: 'dependency_unavailable' } });
      return json(201, { call: n });
    });
    const r1 = await post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key));
    expect(r1.status).toBe(500);
    expect(await idemRows(a.clinicId, key)).toEqual([]);
    const r2 = await post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key));
    expect(r2.status).toBe(503);
    expect(await idemRows(a.clinicId, key)).toEqual([]);
    const r3 = await post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key));
    expect(r3.status).toBe(201);
    const r4 = await post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key));
    expect(r4.body).toEqual({ call: 3 });
    expect(r4.headers['idempotent-replayed']).toBe('true');
    expect(route.calls()).toBe(3);
  });

  it('stores and replays a 4xx answer', async () => {
    const a = await newClinic();
    const key = randomUUID();
    const bad = await post(fns.create, '/v1/api-keys', { name: '' }, withKey(a.auth, key));
    expect(bad.status).toBe(400);
    const again = await post(fns.create, '/v1/api-keys', { name: '' }, withKey(a.auth, key));
    expect(again.status).toBe(400);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.rawBody).toBe(bad.rawBody);
    expect(await keyCount(a.clinicId)).toBe(1);
  });

  it('ignores expired keys and in-progress claims whose invocation died', async () => {
    const a = await newClinic();
    const key = randomUUID();
    const route = scriptedRoute((n) => json(201, { call: n }));
    expect((await post(route.handler, '/v1/things', { x: 1 }, withKey(a.auth, key))).body).toEqual({ call: 1 });
    await pg.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE clinic_id = $1 AND key = $2`, [a.clinicId, key]);
    // Expired: the key is free again, even for another body.
    const fresh = await post(route.handler, '/v1/things', { x: 2 }, withKey(a.auth, key));
    expect(fresh.body).toEqual({ call: 2 });
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();

    // A claim never completed (the invocation timed out) is taken over once its lease ends.
    await pg.query(
      `UPDATE idempotency_keys SET completed_at = NULL, status_code = NULL, response_body = NULL, created_at = now() - interval '10 minutes'
       WHERE clinic_id = $1 AND key = $2`,
      [a.clinicId, key],
    );
    expect((await post(route.handler, '/v1/things', { x: 2 }, withKey(a.auth, key))).body).toEqual({ call: 3 });
    expect(await idemRows(a.clinicId, key)).toHaveLength(1);
  });

  it('the purge job deletes expired keys in batches and leaves live ones', async () => {
    const clinic = await newClinic();
    await pg.query(
      `INSERT INTO idempotency_keys (clinic_id, key, method, path, request_hash, expires_at)
       SELECT $1, 'expired-' || g, 'POST', '/v1/x', repeat('0', 64), now() - interval '1 minute' FROM generate_series(1, 7) g`,
      [clinic.clinicId],
    );
    await pg.query(
      `INSERT INTO idempotency_keys (clinic_id, key, method, path, request_hash, expires_at) VALUES ($1, 'live', 'POST', '/v1/x', repeat('0', 64), now() + interval '1 hour')`,
      [clinic.clinicId],
    );
    const { processIdempotencyPurge } = require('../../lib/jobs/processors/idempotency-purge') as typeof import('../../lib/jobs/processors/idempotency-purge');
    expect(await processIdempotencyPurge(3)).toEqual({ deleted: 7 }); // three batches: 3 + 3 + 1
    const { rows } = await pg.query('SELECT key FROM idempotency_keys WHERE clinic_id = $1', [clinic.clinicId]);
    expect(rows).toEqual([{ key: 'live' }]);
  });

  it('refuses a malformed key with 400 and applies only to POST', async () => {
    const a = await newClinic();
    const route = scriptedRoute((n) => json(200, { call: n }));
    for (const bad of ['', 'x'.repeat(256), 'tab\there', 'é']) {
      const res = await post(route.handler, '/v1/things', {}, withKey(a.auth, bad));
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ field: 'Idempotency-Key', problem: 'must be 1 to 255 printable ASCII characters' }]);
    }
    expect((await post(route.handler, '/v1/things', {}, withKey(a.auth, 'x'.repeat(255)))).status).toBe(200);
    const { get } = await import('../support/invoke');
    expect((await get(route.handler, '/v1/things', withKey(a.auth, 'same'))).body).toEqual({ call: 2 });
    expect((await get(route.handler, '/v1/things', withKey(a.auth, 'same'))).body).toEqual({ call: 3 });
  });
});
