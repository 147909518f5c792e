import { ConfigError } from '../config';
import { message as translate, type Locale } from '../i18n/messages';
import { isRedisConnectionError } from './redis-link';
import { logger } from '../observability/logger';
import { redactText, redactValue } from '../observability/redact';
import { AppError, DependencyUnavailableError } from './app-error';

/** An error as every transport (HTTP, WebSocket) reports it. */
export interface ErrorDescription {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  /** Seconds a client should wait before retrying, when retrying can help. */
  retryAfter?: number;
}

const STATUS: Record<string, number> = {
  validation_failed: 400,
  unauthorized: 401,
  insufficient_scope: 403,
  not_found: 404,
  conflict: 409,
  idempotency_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rule_violated: 422,
  idempotency_key_reused: 422,
  rate_limited: 429,
  dependency_unavailable: 503,
  timeout: 504,
};

/**
 * The one place an error becomes a status and a body. Typed errors carry their code; a Redis link
 * failure that escaped a service is still a 503; anything else is logged and answered as 500
 * without internals. Message and details pass the redaction step: no e-mail or phone in a response.
 */
export function describeError(err: unknown, locale: Locale = 'en'): ErrorDescription {
  const described = describe(err);
  const message = redactText(localized(described, locale));
  return { ...described, message, ...(described.details !== undefined && { details: redactValue(described.details) }) };
}

/**
 * The message for people: the catalogue's text for the most specific key (`details.reason`, then
 * `details.rule`, then the code); in English the error's own, more specific message wins.
 */
function localized(d: ErrorDescription, locale: Locale): string {
  const details = (d.details ?? {}) as { reason?: unknown; rule?: unknown };
  for (const key of [details.reason, details.rule]) {
    if (typeof key === 'string' && translate(key, locale) !== key) return translate(key, locale);
  }
  if (locale === 'en') return d.message;
  const generic = translate(d.code, locale);
  return generic !== d.code ? generic : d.message;
}

function describe(err: unknown): ErrorDescription {
  if (!(err instanceof AppError) && isRedisConnectionError(err)) {
    return describe(new DependencyUnavailableError('redis', 'Redis unavailable', { cause: err }));
  }
  if (err instanceof AppError) {
    const status = STATUS[err.code] ?? 500;
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    logger[status >= 500 ? 'error' : 'info']('request.failed', { code: err.code, status, error: err.message, cause });
    return {
      status,
      code: err.code,
      message: err.message,
      ...(err.details !== undefined && { details: err.details }),
      ...(err.retryAfter !== undefined && { retryAfter: err.retryAfter }),
    };
  }
  if (err instanceof ConfigError) {
    logger.critical('config.invalid', { issues: err.issues });
    return { status: 500, code: 'configuration_invalid', message: 'The service is misconfigured' };
  }
  logger.error('request.unhandled_error', err as Error);
  return { status: 500, code: 'internal_error', message: 'Internal server error' };
}
