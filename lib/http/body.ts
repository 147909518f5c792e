import type { z } from 'zod';
import { ValidationError } from '../errors/app-error';
import { validate } from '../validation/validate';
import type { HttpEvent } from './handler';

/** Parses a JSON body (base64 or not) and validates it. */
export function parseJsonBody<S extends z.ZodType>(event: HttpEvent, schema: S): z.infer<S> {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  let input: unknown;
  try {
    input = raw === '' ? {} : JSON.parse(raw);
  } catch (err) {
    throw new ValidationError('Malformed JSON body', [{ field: 'body', problem: (err as Error).message }]);
  }
  return validate(schema, input);
}
