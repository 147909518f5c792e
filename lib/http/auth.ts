import { getDb } from '../db/client';
import { authenticateKey, type AuthContext } from '../tenancy/api-keys';
import { bearerToken } from './credentials';
import type { HttpEvent } from './types';

export type { AuthContext };

/** The clinic behind `Authorization: Bearer <api key>`; every /v1 query is scoped to it. */
export async function requireClinic(event: HttpEvent): Promise<AuthContext> {
  return authenticateKey(await getDb(), bearerToken(event));
}
