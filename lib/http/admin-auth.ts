import { createHash, timingSafeEqual } from 'node:crypto';
import { getConfig } from '../config';
import { UnauthorizedError } from '../errors/app-error';
import type { HttpEvent } from './handler';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Guards operator routes with ADMIN_SECRET (`Authorization: Bearer <secret>`), compared in constant
 * time. Without ADMIN_SECRET the admin routes are closed, never open.
 */
export function requireAdmin(event: HttpEvent): void {
  const secret = getConfig().adminSecret;
  if (!secret) throw new UnauthorizedError('Admin API disabled: ADMIN_SECRET is not set');
  const header = event.headers?.authorization ?? event.headers?.Authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match?.[1] || !timingSafeEqual(digest(match[1]), digest(secret))) {
    throw new UnauthorizedError('Missing or invalid admin credentials');
  }
}
