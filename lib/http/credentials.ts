import { createHash, timingSafeEqual } from 'node:crypto';

type WithHeaders = { headers?: Record<string, string | undefined> | null };

/** A header value by case-insensitive name (HTTP API lower-cases them; tests and tools may not). */
export function header(event: WithHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/** The token of `Authorization: Bearer <token>`, if the request carries one. */
export function bearerToken(event: WithHeaders): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header(event, 'authorization')?.trim() ?? '')?.[1];
}

/** Compares secrets in constant time whatever their lengths (both sides hashed first). */
export function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
