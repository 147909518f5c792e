import { getConfig } from '../platform/config';
import { bearerToken, safeEqual } from './credentials';
import type { HttpEvent } from './types';

/**
 * Whether the request carries `Authorization: Bearer <ADMIN_SECRET>` (constant-time compare).
 * Never true without ADMIN_SECRET. For routes open to anyone that tell the operator more (/health).
 */
export function hasAdminBearer(event: Pick<HttpEvent, 'headers'>, secret = getConfig().adminSecret): boolean {
  const token = bearerToken(event);
  return !!secret && !!token && safeEqual(token, secret);
}
