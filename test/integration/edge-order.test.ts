/**
 * The order of the HTTP edge, end to end on a /v1 function (real PostgreSQL and Redis): which check
 * answers a request with several faults, and which answers carry `RateLimit-*` headers. Auth,
 * rate-limit and Idempotency-Key answers do not; the route's answers (its errors included) and
 * replays do, after their own headers.
 */
import { randomUUID } from 'node:crypto';
import { buildContext, buildHttpEvent, type HttpLambdaHandler } from '../support/invoke';

const ADMIN_SECRET = `edge-order-${randomUUID()}`;
process.env.ADMIN_SECRET = ADMIN_SECRET;

type Raw = { statusCode: number; headers: Record<string, string>; body: string };

interface Container {
  clinic: typeof import('../../functions/http/clinic');
  admin: typeof import('../../functions/http/admin');
  newClinic: typeof import('../support/clinic').newClinic;
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
}
const containers: Container[] = [];

/** A fresh module registry (a new container) reading RATE_LIMIT_POINTS as it is now. */
function container(points: number): Container {
  jest.resetModules();
  process.env.RATE_LIMIT_POINTS = String(points);
  const c: Container = {
    clinic: require('../../functions/http/clinic'),
    admin: require('../../functions/http/admin'),
    newClinic: require('../support/clinic').newClinic,
    closeAll: require('../../lib/platform/lifecycle/close-all').closeAll,
  };
  containers.push(c);
  return c;
}

afterAll(async () => {
  for (const c of containers) await c.closeAll();
});

async function send(handler: HttpLambdaHandler, headers: Record<string, string>, body = 'not json'): Promise<Raw> {
  const event = buildHttpEvent({ method: 'POST', path: '/v1/api-keys', headers: { 'content-type': 'application/json', ...headers }, body });
  return (await handler(event, buildContext())) as Raw;
}
const names = (res: Raw) => Object.keys(res.headers);
const error = (res: Raw) => JSON.parse(res.body).error;
const JSON_ERROR = ['content-type', 'cache-control', 'Content-Language'];
const RATE = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

describe('the /v1 edge, in order', () => {
  it('answers a bad API key before a malformed Idempotency-Key and a bad body, without RateLimit headers', async () => {
    const c = container(100);
    const res = await send(c.clinic.create, { authorization: 'Bearer agk_nope', 'idempotency-key': 'é' });
    expect([res.statusCode, error(res).code, names(res)]).toEqual([401, 'unauthorized', JSON_ERROR]);
  });

  it('answers a malformed Idempotency-Key before the body, and a reused one with 422, without RateLimit headers', async () => {
    const c = container(100);
    const a = await c.newClinic();
    const auth = { authorization: `Bearer ${a.key}` };
    const malformed = await send(c.clinic.create, { ...auth, 'idempotency-key': 'é' });
    expect([malformed.statusCode, error(malformed).details[0].field, names(malformed)]).toEqual([400, 'Idempotency-Key', JSON_ERROR]);

    const key = randomUUID();
    const first = await send(c.clinic.create, { ...auth, 'idempotency-key': key }, '{"name":""}');
    expect([first.statusCode, names(first)]).toEqual([400, [...JSON_ERROR, ...RATE]]);
    expect(first.headers['RateLimit-Remaining']).toBe('98');

    const replay = await send(c.clinic.create, { ...auth, 'idempotency-key': key }, '{ "name" : "" }');
    expect([replay.statusCode, replay.body, names(replay)]).toEqual([400, first.body, ['content-type', 'cache-control', 'Idempotent-Replayed', ...RATE]]);
    expect(replay.headers['RateLimit-Remaining']).toBe('97');

    const reused = await send(c.clinic.create, { ...auth, 'idempotency-key': key }, '{"name":"other"}');
    expect([reused.statusCode, error(reused).code, names(reused)]).toEqual([422, 'idempotency_key_reused', JSON_ERROR]);
  });

  it('answers past the budget with 429 before the Idempotency-Key and the body are looked at', async () => {
    const c = container(1);
    const a = await c.newClinic();
    const auth = { authorization: `Bearer ${a.key}` };
    const ok = await send(c.clinic.create, auth, '{"name":"one"}');
    expect([ok.statusCode, names(ok)]).toEqual([201, ['content-type', 'cache-control', ...RATE]]);
    const limited = await send(c.clinic.create, { ...auth, 'idempotency-key': 'é' });
    expect([limited.statusCode, names(limited)]).toEqual([429, [...JSON_ERROR, 'Retry-After']]);
  });

  it('checks the admin secret before the body', async () => {
    const c = container(100);
    const denied = await send(c.admin.createClinic, { authorization: 'Bearer wrong' });
    expect([denied.statusCode, names(denied)]).toEqual([401, JSON_ERROR]);
    const bad = await send(c.admin.createClinic, { authorization: `Bearer ${ADMIN_SECRET}` });
    expect([bad.statusCode, error(bad).message]).toEqual([400, 'Malformed JSON body']);
  });
});
