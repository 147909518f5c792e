import { describeError } from '../errors/describe';
import { negotiateLocale } from '../i18n/messages';
import type { HttpEvent } from './types';
import { json, type HttpResult } from './response';

/**
 * Maps any thrown error to its HTTP response (status and body from lib/errors/describe.ts), the
 * message in the language the request's Accept-Language asks for (pt-BR by default).
 */
export function errorToResponse(err: unknown, event?: HttpEvent): HttpResult {
  const locale = negotiateLocale(event?.headers?.['accept-language']);
  const { status, retryAfter, ...error } = describeError(err, locale);
  return json(status, { error }, { 'Content-Language': locale, ...(retryAfter ? { 'Retry-After': String(retryAfter) } : {}) });
}
