/**
 * Every deployed HTTP route declares who may call it, in its route factory (clinicRoute's scope,
 * adminRoute, publicRoute), and the OpenAPI document says the same: a route without a declaration,
 * or documented with another scope, fails here. The scope classes follow one rule: reads need
 * `read`, changes `write`, and keys, webhooks, clinic settings and the data-subject operations
 * (audit trail, export, anonymise, block) `admin`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { ROUTES } from '../../lib/http/openapi/routes';
import type { RouteAccess } from '../../lib/http/routes/access';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { json } from '../../lib/http/response';

const ROOT = path.resolve(__dirname, '..', '..');
const yml = load(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as {
  functions: Record<string, { events?: { httpApi?: { method: string; path: string } }[] }>;
  custom: { lambda: { sources: Record<string, string> } };
};
const routes = Object.entries(yml.functions).flatMap(([fn, def]) =>
  (def.events ?? []).flatMap((e) => (e.httpApi ? [{ fn, method: e.httpApi.method.toUpperCase(), path: e.httpApi.path }] : [])),
);

type Handler = { access?: RouteAccess | Record<string, RouteAccess | undefined> };
async function accessOf(fn: string, key: string): Promise<RouteAccess | undefined> {
  const { handler } = (await import(path.join(ROOT, yml.custom.lambda.sources[fn]!))) as { handler: Handler & { routeKeys?: string[] } };
  // A router lists its routes' access by key; a one-route function is its route.
  return handler.routeKeys ? (handler.access as Record<string, RouteAccess | undefined>)[key] : (handler.access as RouteAccess | undefined);
}

/** The rule the scopes follow, so a new route lands in the class its kind belongs to. */
function expectedScope(method: string, p: string): string {
  if (p.startsWith('/v1/api-keys') || p.startsWith('/v1/webhooks') || (p === '/v1/clinic' && method !== 'GET')) return 'admin';
  // LGPD: who saw a patient's data, the whole export, and the irreversible anonymise (and block).
  if (p === '/v1/audit-events' || /^\/v1\/patients\/\{id\}\/(export|anonymize|block|unblock)$/.test(p)) return 'admin';
  return method === 'GET' ? 'read' : p === '/v1/realtime/tickets' ? 'read' : 'write';
}

describe('route access', () => {
  it('reads the routes from serverless.yml', () => expect(routes.length).toBeGreaterThan(40));

  it.each(routes)('$method $path declares its access, as the OpenAPI document says', async ({ fn, method, path: p }) => {
    const access = await accessOf(fn, `${method} ${p}`);
    const doc = ROUTES.find((r) => r.method === method.toLowerCase() && r.path === p)!;
    expect(access).toBeDefined();
    if (p.startsWith('/v1/')) {
      expect(access).toEqual({ scope: expectedScope(method, p) });
      expect({ auth: doc.auth, scope: doc.scope }).toEqual({ auth: 'apiKey', scope: (access as { scope: string }).scope });
    } else {
      expect(access).toBe(p.startsWith('/admin/') ? 'admin' : 'public');
      expect({ auth: doc.auth, scope: doc.scope }).toEqual({ auth: access === 'admin' ? 'admin' : 'none', scope: undefined });
    }
  });

  it('refuses, at load, a clinic route that declares no scope or an unknown one', () => {
    const route = async () => json(200, {});
    expect(() => (clinicRoute as unknown as (r: typeof route) => unknown)(route)).toThrow(/must declare its scope/);
    expect(() => (clinicRoute as unknown as (s: string, r: typeof route) => unknown)('owner', route)).toThrow(/must declare its scope/);
  });

  it('documents the scope in the OpenAPI security requirement and a 403', async () => {
    const { openApiDocument } = await import('../../lib/http/openapi/routes');
    const post = openApiDocument().paths['/v1/api-keys']!.post as { security: unknown; responses: Record<string, unknown>; 'x-required-scope': string };
    expect(post.security).toEqual([{ apiKey: ['admin'] }]);
    expect(post['x-required-scope']).toBe('admin');
    expect(post.responses['403']).toBeDefined();
  });
});
