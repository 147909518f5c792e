import { z } from 'zod';
import { InsufficientScopeError } from '../../platform/errors/app-error';

/**
 * What an API key may do. `read`: every GET of the scheduling data. `write`: changes to it
 * (patients, appointments, professionals, packages). `admin`: the clinic's access and integrations
 * (keys, webhooks, clinic settings). Scopes do not imply one another: a key holds each it needs.
 */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a key gets when whoever mints it names no scopes: never `admin` by default. */
export const DEFAULT_SCOPES: readonly Scope[] = ['read', 'write'];

/** Keys made by the operator's bootstrap (POST /admin/clinics, clinic:create, the dev seed) hold every scope. */
export const BOOTSTRAP_SCOPES: readonly Scope[] = SCOPES;

export const isScope = (value: unknown): value is Scope => typeof value === 'string' && (SCOPES as readonly string[]).includes(value);

/** A request body's scope list: known scopes, at least one, each once. */
export const scopesSchema = z
  .array(z.enum(SCOPES))
  .min(1)
  .max(SCOPES.length)
  .refine((s) => new Set(s).size === s.length, 'each scope at most once');

/** Sorted in SCOPES' order, so that stored and answered lists read alike. */
export const normalizeScopes = (scopes: readonly string[]): Scope[] => SCOPES.filter((s) => scopes.includes(s));

/** Refuses, with 403, a key that does not hold `scope`. */
export function requireScope(held: readonly string[], scope: Scope): void {
  if (!held.includes(scope)) throw new InsufficientScopeError(scope);
}

/**
 * A key may mint only keys whose scopes it holds itself, so minting never widens access; the
 * missing ones are named.
 */
export function requireSubset(held: readonly string[], wanted: readonly Scope[]): void {
  const missing = wanted.filter((s) => !held.includes(s));
  if (missing.length > 0) {
    throw new InsufficientScopeError(missing, `A key can only mint keys with scopes it holds itself; it lacks ${missing.join(', ')}`);
  }
}
