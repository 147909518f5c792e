import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** An HTTP API (payload format 2.0) request, as every HTTP function receives it. */
export type HttpEvent = APIGatewayProxyEventV2;
