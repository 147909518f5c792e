/** httpErrors: whatever its stage throws becomes the error's JSON answer; nothing reaches Lambda. */
import { httpErrors } from '../../../lib/http/middlewares/http-errors';
import { json } from '../../../lib/http/response';
import type { HttpMiddleware } from '../../../lib/http/types';
import { DependencyUnavailableError, IdempotencyKeyReusedError, RateLimitedError, ValidationError } from '../../../lib/platform/errors/app-error';
import { httpEvent, runStage } from '../../support/http-stage';

const throwing = (err: unknown) => async () => {
  throw err;
};

describe('httpErrors', () => {
  it('answers a typed error with its status, code, details and Content-Language', async () => {
    const res = await runStage([httpErrors()], throwing(new ValidationError('Invalid body', [{ field: 'name', problem: 'x' }])));
    expect(res).toEqual({
      statusCode: 400,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'Content-Language': 'en' },
      body: JSON.stringify({ error: { code: 'validation_failed', message: 'Invalid body', details: [{ field: 'name', problem: 'x' }] } }),
    });
  });

  it('adds Retry-After when retrying can help, after Content-Language', async () => {
    const limited = await runStage([httpErrors()], throwing(new RateLimitedError('slow down', 7)));
    expect(limited.statusCode).toBe(429);
    expect(Object.entries(limited.headers!).slice(-2)).toEqual([['Content-Language', 'en'], ['Retry-After', '7']]);
    const down = await runStage([httpErrors()], throwing(new DependencyUnavailableError('redis', 'down')));
    expect([down.statusCode, down.headers!['Retry-After']]).toEqual([503, '5']);
  });

  it('answers in pt-BR when the request does not ask for another language', async () => {
    const event = httpEvent({ headers: { 'accept-language': '' } });
    delete event.headers['accept-language'];
    const res = await runStage([httpErrors()], throwing(new IdempotencyKeyReusedError('reused', { problem: 'different body' })), event);
    expect(res.statusCode).toBe(422);
    expect(res.headers!['Content-Language']).toBe('pt-BR');
  });

  it('answers anything else with a 500 that shows no internals', async () => {
    for (const thrown of [new Error('secret stack'), 'a string', undefined]) {
      const res = await runStage([httpErrors()], throwing(thrown));
      expect(res.statusCode).toBe(500);
      expect(JSON.parse(res.body!)).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    }
  });

  it("maps the errors of the middlewares used after it in its stage, and leaves a route's answer alone", async () => {
    const failing: HttpMiddleware = { before: throwing(new ValidationError('Invalid path', [])) };
    const route = jest.fn(async () => json(200, { ok: true }));
    expect((await runStage([httpErrors(), failing], route)).statusCode).toBe(400);
    expect(route).not.toHaveBeenCalled();
    expect(await runStage([httpErrors()], route)).toEqual(json(200, { ok: true }));
  });
});
