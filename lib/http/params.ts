import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { idParam } from '../validation/common';
import { validate } from '../validation/validate';

/** A route's path parameters, validated: a malformed one is a 400 naming it, never a database error. */
export const pathParams = <S extends z.ZodType>(schema: S, event: APIGatewayProxyEventV2): z.infer<S> =>
  validate(schema, event.pathParameters ?? {}, 'path');

/** A route's query string, validated against its schema (defaults applied). */
export const queryParams = <S extends z.ZodType>(schema: S, event: APIGatewayProxyEventV2): z.infer<S> =>
  validate(schema, event.queryStringParameters ?? {}, 'query');

/** The `{id}` of a route, a UUID. */
export const pathId = (event: APIGatewayProxyEventV2): string => pathParams(idParam, event).id;
