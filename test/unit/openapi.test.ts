import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validate } from '@readme/openapi-parser';
import { load } from 'js-yaml';
import { renderDocsPage } from '../../lib/http/openapi/docs-page';
import { openApiDocument } from '../../lib/http/openapi/routes';

type Serverless = { functions: Record<string, { events?: { httpApi?: { method: string; path: string } }[] }> };

function httpRoutesInServerlessYml(): string[] {
  const file = readFileSync(path.join(__dirname, '..', '..', 'serverless.yml'), 'utf8');
  const doc = load(file) as Serverless;
  return Object.values(doc.functions).flatMap((fn) =>
    (fn.events ?? []).flatMap((e) => (e.httpApi ? [`${e.httpApi.method.toLowerCase()} ${e.httpApi.path}`] : [])),
  );
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = structuredClone(openApiDocument());
    const result = await validate(doc as never);
    if (!result.valid) console.error(JSON.stringify(result.errors, null, 1));
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('describes every HTTP route in serverless.yml, and nothing else', () => {
    const documented = Object.entries(openApiDocument().paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m} ${p}`));
    const deployed = httpRoutesInServerlessYml();
    expect(deployed.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...deployed].sort());
  });

  it('uses the validating schemas: a request body shows its fields and constraints', () => {
    const post = openApiDocument().paths['/admin/clinics']!.post as { requestBody: { content: { 'application/json': { schema: any } } } };
    const schema = post.requestBody.content['application/json'].schema;
    expect(schema.properties.name).toMatchObject({ type: 'string', maxLength: 200 });
    expect(schema.additionalProperties).toBe(false);
  });

  it('marks required query parameters from the validating schema', () => {
    const get = openApiDocument().paths['/v1/professionals/{id}/slots']!.get as { parameters: { name: string; required: boolean }[] };
    const required = Object.fromEntries(get.parameters.map((p) => [p.name, p.required]));
    expect(required).toEqual({ id: true, from: true, to: true, duration: false });
  });

  it('renders a readable, self-contained docs page', () => {
    const html = renderDocsPage(openApiDocument());
    expect(html).toContain('<code>/v1/api-keys/{id}</code>');
    expect(html).not.toMatch(/<script/i);
  });
});
