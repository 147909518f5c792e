/** parseInput: path, then query, then body; a route gets its input validated, or never runs. */
import { z } from 'zod';
import { httpErrors } from '../../../lib/http/middlewares/http-errors';
import { parseInput, type InputSpec } from '../../../lib/http/middlewares/parse-input';
import { json } from '../../../lib/http/response';
import type { HttpContext } from '../../../lib/http/types';
import { httpEvent, runStage } from '../../support/http-stage';

const spec: InputSpec = {
  path: z.object({ id: z.uuid() }),
  query: z.object({ limit: z.string().regex(/^\d+$/) }),
  body: z.strictObject({ name: z.string() }),
};
const id = '5f0c3a8e-2d4b-4c1e-9f6a-1b2c3d4e5f60';
const echo = async (_event: unknown, context: HttpContext) => json(200, context.input);
const send = (s: InputSpec, req: Parameters<typeof httpEvent>[0]) => runStage([httpErrors(), parseInput(s)], echo, httpEvent(req));
const fields = (res: { body?: string }) => JSON.parse(res.body!).error.details.map((d: { field: string }) => d.field);

describe('parseInput', () => {
  it('hands the route its validated path, query and body', async () => {
    const res = await send(spec, { method: 'POST', path: `/v1/things/${id}?limit=5`, pathParameters: { id }, body: { name: 'x' } });
    expect(JSON.parse(res.body!)).toEqual({ path: { id }, query: { limit: '5' }, body: { name: 'x' } });
  });

  it('answers about the path first, then the query, then the body', async () => {
    const badBody = { raw: 'not json' };
    const all = await send(spec, { method: 'POST', path: '/v1/things/x?limit=a', pathParameters: { id: 'x' }, body: badBody.raw });
    expect(fields(all)).toEqual(['id']);
    const queryAndBody = await send(spec, { method: 'POST', path: `/v1/things/${id}?limit=a`, pathParameters: { id }, body: badBody.raw });
    expect(fields(queryAndBody)).toEqual(['limit']);
    const body = await send(spec, { method: 'POST', path: `/v1/things/${id}?limit=1`, pathParameters: { id }, body: badBody.raw });
    expect(JSON.parse(body.body!).error.message).toBe('Malformed JSON body');
  });

  it('reads no body for a route that takes none: no 413 or 415 there', async () => {
    const res = await send({}, { method: 'POST', path: '/v1/things', body: 'x'.repeat(200_000), headers: { 'content-type': 'text/plain' } });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body!)).toEqual({});
  });

  it('refuses a non-JSON content type with 415 and takes a top-level array only when told', async () => {
    const body = { body: z.array(z.number()) };
    expect((await send(body, { method: 'PUT', body: 'x', headers: { 'content-type': 'text/plain' } })).statusCode).toBe(415);
    expect((await send(body, { method: 'PUT', body: [1, 2] })).statusCode).toBe(400);
    const any = await send({ ...body, json: { expect: 'any' } }, { method: 'PUT', body: [1, 2] });
    expect(JSON.parse(any.body!)).toEqual({ body: [1, 2] });
  });
});
