import { describeError } from '../errors/describe';
import { json, type HttpResult } from './response';

/** Maps any thrown error to its HTTP response (status and body from lib/errors/describe.ts). */
export function errorToResponse(err: unknown): HttpResult {
  const { status, retryAfter, ...error } = describeError(err);
  return json(status, { error }, retryAfter ? { 'Retry-After': String(retryAfter) } : undefined);
}
