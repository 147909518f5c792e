import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };

/** A JSON response; API Gateway HTTP API payload format 2.0. */
export function json(statusCode: number, body: unknown, headers?: Record<string, string>): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** 204: done, nothing to say. */
export const noContent = (): HttpResult => ({ statusCode: 204, headers: {}, body: '' });
