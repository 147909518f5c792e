import type { z } from 'zod';
import { ValidationError } from '../platform/errors/app-error';
import { validate } from '../platform/validation/validate';
import type { SocketEvent } from './types';

/**
 * A message's body as `schema` wants it. Malformed JSON fails like a schema mismatch, so a client
 * gets one `validation_failed` error shape for both.
 */
export function parseMessage<S extends z.ZodType>(event: SocketEvent, schema: S): z.infer<S> {
  let input: unknown;
  try {
    input = JSON.parse(event.body ?? '');
  } catch {
    throw new ValidationError('Messages must be JSON objects with an "action"', [{ field: 'body', problem: 'malformed JSON' }]);
  }
  return validate(schema, input, 'message');
}
