import { AppError, DependencyUnavailableError } from '../errors/app-error';
import { logger } from '../observability/logger';
import type { HttpResult } from './response';
import { json } from './response';

const STATUS: Record<string, number> = {
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  dependency_unavailable: 503,
};

/** The one place errors become HTTP responses. Unknown errors are logged and answered as 500. */
export function errorToResponse(err: unknown): HttpResult {
  if (err instanceof AppError) {
    const status = STATUS[err.code] ?? 500;
    const level = status >= 500 ? 'error' : 'info';
    logger[level]('request.failed', { code: err.code, status, error: err.message, cause: causeMessage(err) });
    const headers = err instanceof DependencyUnavailableError ? { 'Retry-After': '5' } : undefined;
    return json(status, { error: { code: err.code, message: err.message, details: err.details } }, headers);
  }
  logger.error('request.unhandled_error', err as Error);
  return json(500, { error: { code: 'internal_error', message: 'Internal server error' } });
}

function causeMessage(err: Error): string | undefined {
  return err.cause instanceof Error ? err.cause.message : undefined;
}
