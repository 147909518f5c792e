import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { lambdaHandler, type Invocation } from '../lambda/handler';
import { requireClinic, type AuthContext } from './auth';
import { errorToResponse } from './errors';
import type { HttpResult } from './response';

export type HttpEvent = APIGatewayProxyEventV2;
export type RouteHandler = (event: HttpEvent, call: Invocation) => Promise<HttpResult>;

/** An HTTP API route: the base Lambda wrapper, with every thrown error mapped to HTTP in one place. */
export function httpHandler(route: RouteHandler) {
  return lambdaHandler<HttpEvent, HttpResult>(
    (event) => ({ route: event.routeKey }),
    async (event, call) => {
      try {
        return await route(event, call);
      } catch (err) {
        return errorToResponse(err);
      }
    },
  );
}

export type ClinicRouteHandler = (event: HttpEvent, auth: AuthContext, call: Invocation) => Promise<HttpResult>;

/** A `/v1` route: the caller's API key resolved to its clinic before the route runs. */
export function clinicHandler(route: ClinicRouteHandler) {
  return httpHandler(async (event, call) => route(event, await requireClinic(event), call));
}
