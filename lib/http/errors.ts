import { describeError } from '../platform/errors/describe';
import { negotiateLocale } from '../platform/i18n/messages';
import type { HttpEvent } from './types';
import { json, type HttpResult } from './response';

/**
 * The one place a thrown error becomes an HTTP answer: status and body from describeError (shared
 * with the WebSocket edge), the message in the language Accept-Language asks for (pt-BR by default).
 */
export function errorToResponse(err: unknown, event?: HttpEvent): HttpResult {
  const locale = negotiateLocale(event?.headers?.['accept-language']);
  const { status, retryAfter, ...error } = describeError(err, locale);
  return json(status, { error }, { 'Content-Language': locale, ...(retryAfter ? { 'Retry-After': String(retryAfter) } : {}) });
}
