import { getConfig } from '../../platform/config';
import { identifyActor } from '../../platform/db/actor';
import { UnauthorizedError } from '../../platform/errors/app-error';
import { bearerToken, safeEqual } from '../credentials';
import type { HttpMiddleware } from '../types';

/**
 * Guards operator routes with ADMIN_SECRET (`Authorization: Bearer <secret>`), compared in constant
 * time; the audit trail then names the admin as the actor. Without ADMIN_SECRET the admin routes are closed, never open.
 */
export const adminAuth = (secret = (): string | undefined => getConfig().adminSecret): HttpMiddleware => ({
  before: ({ event }) => {
    const expected = secret();
    if (!expected) throw new UnauthorizedError('Admin API disabled: ADMIN_SECRET is not set');
    const token = bearerToken(event);
    if (!token || !safeEqual(token, expected)) throw new UnauthorizedError('Missing or invalid admin credentials');
    identifyActor('admin', null);
  },
});
