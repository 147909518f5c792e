import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/**
 * In-process invocation of an HTTP function the way API Gateway HTTP API (payload format 2.0)
 * and the Lambda runtime call it: a v2 event, a Lambda context with a unique request id and a
 * deadline, and the structured result turned back into { status, headers, body }.
 *
 * The handler's module registry is the "container": invoking the same imported handler again is a
 * warm invocation, exactly like Lambda reusing an execution environment.
 */

/** Anything shaped like a Lambda handler for HTTP API events (middy handlers included). */
export type HttpLambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export interface InvokeRequest {
  /** Defaults to GET. */
  method?: string;
  /** Raw path, e.g. `/admin/canaries/123`; a query string after `?` is split off into the event. */
  path: string;
  /** Route key as configured in API Gateway, e.g. `GET /admin/canaries/{id}`. Defaults to `METHOD path`. */
  routeKey?: string;
  headers?: Record<string, string>;
  /** Objects are sent as JSON (with a JSON content type unless one is given); strings as they are. */
  body?: unknown;
  pathParameters?: Record<string, string>;
  /** Lambda function name (`<service>-<stage>-<fn>`). */
  functionName?: string;
  /** The function's configured timeout; the context's deadline starts when the call starts. */
  timeoutMs?: number;
}

export interface InvokeResult<B = any> {
  status: number;
  /** Header names lower-cased, as HTTP clients see them. */
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, the raw string otherwise, undefined when empty. */
  body: B;
  /** The raw string body. */
  rawBody: string | undefined;
  /** Wall-clock time of the call, measured around the handler. */
  elapsedMs: number;
  /** The request id the context carried. */
  requestId: string;
}

/** Builds an HTTP API (payload v2) event, as API Gateway sends it to a Lambda integration. */
export function buildHttpEvent(req: InvokeRequest): APIGatewayProxyEventV2 {
  const method = (req.method ?? 'GET').toUpperCase();
  const [rawPath = '/', rawQueryString = ''] = req.path.split('?', 2);
  const headers: Record<string, string> = {
    accept: 'application/json',
    host: 'localhost',
    'user-agent': 'agenda-tests',
    // Assertions read English messages; tests of the pt-BR default set their own header.
    'accept-language': 'en',
    'x-forwarded-proto': 'https',
  };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;

  let body: string | undefined;
  if (req.body !== undefined) {
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    if (typeof req.body !== 'string') headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const queryStringParameters = rawQueryString
    ? Object.fromEntries(new URLSearchParams(rawQueryString).entries())
    : undefined;
  const now = new Date();
  const requestId = randomUUID();

  return {
    version: '2.0',
    routeKey: req.routeKey ?? `${method} ${rawPath}`,
    rawPath,
    rawQueryString,
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    ...(req.pathParameters && { pathParameters: req.pathParameters }),
    ...(body !== undefined && { body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: req.routeKey ?? `${method} ${rawPath}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

/** Builds a Lambda context whose remaining time counts down from `timeoutMs`. */
export function buildContext(functionName = 'agenda-test-http', timeoutMs = 28_000): Context {
  const deadline = Date.now() + timeoutMs;
  const fail = () => {
    throw new Error('The callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2025/01/01/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

/** Invokes a handler once and returns what API Gateway would answer. */
export async function invoke<B = any>(handler: HttpLambdaHandler, req: InvokeRequest): Promise<InvokeResult<B>> {
  const event = buildHttpEvent(req);
  const context = buildContext(req.functionName, req.timeoutMs);
  const started = Date.now();
  const raw = await handler(event, context);
  const elapsedMs = Date.now() - started;
  return { ...toResult<B>(raw), elapsedMs, requestId: context.awsRequestId };
}

/**
 * HTTP API v2 semantics: a structured result has `statusCode`; anything else is a 200 whose body
 * is the JSON of the returned value.
 */
function toResult<B>(raw: unknown): Omit<InvokeResult<B>, 'elapsedMs' | 'requestId'> {
  if (raw && typeof raw === 'object' && 'statusCode' in raw) {
    const r = raw as { statusCode: number; headers?: Record<string, unknown>; body?: string; isBase64Encoded?: boolean };
    const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const rawBody = r.body !== undefined && r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body;
    return { status: r.statusCode, headers, body: parseBody(rawBody, headers['content-type']) as B, rawBody };
  }
  const rawBody = raw === undefined ? undefined : JSON.stringify(raw);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: raw as B,
    rawBody,
  };
}

function parseBody(rawBody: string | undefined, contentType: string | undefined): unknown {
  if (rawBody === undefined || rawBody === '') return undefined;
  if (contentType && !/json/i.test(contentType)) return rawBody;
  try {
    return JSON.parse(rawBody);
  } catch {
    return rawBody;
  }
}

/** Shorthand for GET requests. */
export const get = <B = any>(handler: HttpLambdaHandler, path: string, req: Omit<InvokeRequest, 'path' | 'method'> = {}) =>
  invoke<B>(handler, { ...req, method: 'GET', path });

/** Shorthand for POST requests with a JSON body. */
export const post = <B = any>(
  handler: HttpLambdaHandler,
  path: string,
  body?: unknown,
  req: Omit<InvokeRequest, 'path' | 'method' | 'body'> = {},
) => invoke<B>(handler, { ...req, method: 'POST', path, body });

/**
 * The operator's bearer: this test environment's ADMIN_SECRET (test/setup/env.ts, or the suite's
 * own), read at call time. /health answers only `{status}` without it.
 */
export const adminHeaders = (): Record<string, string> => ({ authorization: `Bearer ${process.env.ADMIN_SECRET ?? ''}` });

/** GET /health as the operator: the full report (checks, pool, budget, warm state). */
export const getHealth = <B = any>(handler: HttpLambdaHandler, req: Omit<InvokeRequest, 'path' | 'method'> = {}) =>
  get<B>(handler, '/health', { ...req, headers: { ...adminHeaders(), ...req.headers } });
