import { getDb } from '../db/client';
import { authenticateKey, type AuthContext } from '../tenancy/api-keys';
import type { HttpEvent } from './handler';

export type { AuthContext };

/** The clinic behind `Authorization: Bearer <api key>`; every /v1 query is scoped to it. */
export async function requireClinic(event: HttpEvent): Promise<AuthContext> {
  const header = event.headers?.authorization ?? event.headers?.Authorization ?? '';
  const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  return authenticateKey(await getDb(), key);
}
