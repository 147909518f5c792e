import type { z } from 'zod';
import { validate } from '../platform/validation/validate';
import type { HttpEvent } from './types';

/** A route's path parameters, validated: a malformed one is a 400 naming it, never a database error. */
export const pathParams = <S extends z.ZodType>(schema: S, event: HttpEvent): z.infer<S> =>
  validate(schema, event.pathParameters ?? {}, 'path');

/** A route's query string, validated against its schema (defaults applied). */
export const queryParams = <S extends z.ZodType>(schema: S, event: HttpEvent): z.infer<S> =>
  validate(schema, event.queryStringParameters ?? {}, 'query');
