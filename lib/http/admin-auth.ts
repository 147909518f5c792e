import { getConfig } from '../config';
import { UnauthorizedError } from '../errors/app-error';
import { bearerToken, safeEqual } from './credentials';
import type { HttpEvent } from './types';

/**
 * Guards operator routes with ADMIN_SECRET (`Authorization: Bearer <secret>`), compared in constant
 * time. Without ADMIN_SECRET the admin routes are closed, never open.
 */
export function requireAdmin(event: HttpEvent): void {
  const secret = getConfig().adminSecret;
  if (!secret) throw new UnauthorizedError('Admin API disabled: ADMIN_SECRET is not set');
  const token = bearerToken(event);
  if (!token || !safeEqual(token, secret)) {
    throw new UnauthorizedError('Missing or invalid admin credentials');
  }
}
