import type { Scope } from '../../domain/tenancy/scopes';

/**
 * Who may call a route, as its factory declares it: an API key holding `scope` (clinicRoute), the
 * operator secret (adminRoute), or anyone (publicRoute). Every route handler carries it, so a test
 * can check each deployed route against its OpenAPI entry, and a route without it fails that test.
 */
export type RouteAccess = { scope: Scope } | 'admin' | 'public';

/** A route handler with its declared access. */
export type WithAccess<H> = H & { access: RouteAccess };

export const withAccess = <H extends object>(handler: H, access: RouteAccess): WithAccess<H> => Object.assign(handler, { access });
