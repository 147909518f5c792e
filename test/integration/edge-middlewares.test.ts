/**
 * The /v1 middlewares one at a time, on the real PostgreSQL and Redis: clinicAuth resolves a real
 * key, rateLimit spends a real budget and writes its headers over the route's, idempotency gives a
 * key back when the stage inside it throws. The order of the whole stack is edge-order.test.ts's.
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { httpContext, httpEvent, runStage } from '../support/http-stage';
import { useSuite } from '../support/suite';
import { json } from '../../lib/http/response';

const suite = useSuite({
  env: { RATE_LIMIT_POINTS: '3' },
  modules: {
    auth: () => import('../../lib/http/middlewares/clinic-auth'),
    errors: () => import('../../lib/http/middlewares/http-errors'),
    limits: () => import('../../lib/http/middlewares/rate-limit'),
    headers: () => import('../../lib/http/rate-limit'),
    idem: () => import('../../lib/http/middlewares/idempotency'),
  },
});
const { auth, errors, limits, headers, idem } = suite.m;

const ok = async () => json(200, { ok: true });
const keyAuth = () => ({ clinicId: randomUUID(), apiKeyId: randomUUID(), timeZone: 'America/Sao_Paulo', scopes: ['read', 'write', 'admin'] });

describe('clinicAuth', () => {
  it('resolves a real API key to its clinic for what follows', async () => {
    const { clinicId, key } = await newClinic();
    const res = await runStage([auth.clinicAuth('read')], async (_e, ctx) => json(200, auth.authOf(ctx)), httpEvent({ headers: { authorization: `Bearer ${key}` } }));
    expect(JSON.parse(res.body!)).toMatchObject({ clinicId, timeZone: 'America/Sao_Paulo', apiKeyId: expect.any(String), scopes: ['read', 'write', 'admin'] });
  });

  it('answers 403 insufficient_scope, naming the scope, for a key without it, before the route runs', async () => {
    const { clinicId } = await newClinic();
    const { issueApiKey } = await import('../../lib/domain/tenancy/key-issuing');
    const reader = await issueApiKey({ clinicId, apiKeyId: '', timeZone: 'UTC', scopes: ['read'] }, 'reader', ['read']);
    const route = jest.fn(ok);
    const res = await runStage([errors.httpErrors(), auth.clinicAuth('write')], route, httpEvent({ headers: { authorization: `Bearer ${reader.key}` } }));
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body!).error).toMatchObject({ code: 'insufficient_scope', details: { requiredScope: 'write' } });
    expect(route).not.toHaveBeenCalled();
  });

  it('answers 401 for a missing or unknown key, before the route runs', async () => {
    const route = jest.fn(ok);
    for (const authorization of ['Basic x', 'Bearer agk_nope_0000000000000000000000000000000000000000']) {
      const res = await runStage([errors.httpErrors(), auth.clinicAuth('read')], route, httpEvent({ headers: { authorization } }));
      expect(res.statusCode).toBe(401);
    }
    expect(route).not.toHaveBeenCalled();
  });

  it('makes a stack that reads the clinic without clinicAuth fail loudly, not as a 401', () => {
    expect(() => auth.authOf(httpContext())).toThrow('clinicAuth must run before this middleware');
  });
});

describe('rateLimit (RATE_LIMIT_POINTS=3)', () => {
  it("spends the key's budget and writes RateLimit-* after the route's own headers, over any of the same name", async () => {
    const context = () => httpContext({ auth: keyAuth() });
    const ctx = context();
    const route = async () => json(201, { ok: true }, { location: '/v1/things/1', 'RateLimit-Limit': 'route says 1' });
    const first = await runStage([limits.rateLimit()], route, httpEvent(), ctx);
    expect(Object.entries(first.headers!)).toEqual([
      ['content-type', 'application/json; charset=utf-8'],
      ['cache-control', 'no-store'],
      ['location', '/v1/things/1'],
      ['RateLimit-Limit', '3'],
      ['RateLimit-Remaining', '2'],
      ['RateLimit-Reset', expect.stringMatching(/^\d+$/)],
    ]);
    expect([first.statusCode, first.body]).toEqual([201, '{"ok":true}']);
    const second = await runStage([limits.rateLimit()], ok, httpEvent(), httpContext({ auth: ctx.auth }));
    expect(second.headers!['RateLimit-Remaining']).toBe('1');
  });

  it('answers 429 past the budget, without RateLimit-* headers and without the route', async () => {
    const ctx = httpContext({ auth: keyAuth() });
    for (let i = 0; i < 3; i++) expect((await runStage([errors.httpErrors(), limits.rateLimit()], ok, httpEvent(), ctx)).statusCode).toBe(200);
    const route = jest.fn(ok);
    const res = await runStage([errors.httpErrors(), limits.rateLimit()], route, httpEvent(), ctx);
    expect(res.statusCode).toBe(429);
    expect(Object.keys(res.headers!)).toEqual(['content-type', 'cache-control', 'Content-Language', 'Retry-After']);
    expect(route).not.toHaveBeenCalled();
  });

  it('shows a remaining budget below zero as 0', () => {
    expect(headers.rateLimitHeaders({ limit: 3, remaining: -2, resetSeconds: 5 })['RateLimit-Remaining']).toBe('0');
  });

  it("adds nothing when rate limiting is off, and never edits the route's own object", async () => {
    process.env.RATE_LIMIT_POINTS = '0';
    await suite.reload();
    const answer = json(200, {});
    const res = await runStage([limits.rateLimit()], async () => answer, httpEvent(), httpContext({ auth: keyAuth() }));
    expect(res.headers).toEqual(answer.headers);
    expect(res).not.toBe(answer);
  });
});

describe('idempotency', () => {
  it('gives the key back when the stage inside it throws, so a retry runs the route', async () => {
    const { clinicId } = await newClinic();
    const ctx = () => httpContext({ auth: { clinicId, apiKeyId: randomUUID(), timeZone: 'America/Sao_Paulo', scopes: ['write'] } });
    const event = httpEvent({ method: 'POST', body: { a: 1 }, headers: { 'idempotency-key': `k-${randomUUID()}` } });
    await expect(runStage([idem.idempotency()], async () => { throw new Error('the stage broke'); }, event, ctx())).rejects.toThrow('the stage broke');
    const route = jest.fn(async () => json(201, { id: 1 }));
    expect((await runStage([idem.idempotency()], route, event, ctx())).statusCode).toBe(201); // not 409: the claim was released
    expect(route).toHaveBeenCalledTimes(1);
  });
});
