import type { Context } from 'aws-lambda';
import type { HttpEvent } from '../../lib/http/handler';

/** A minimal HTTP API (payload 2.0) event, as API Gateway would send it. */
export function httpEvent(routeKey: string, path: string): HttpEvent {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'bench.local', 'user-agent': 'agenda-bench' },
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'agenda-bench' },
      requestId: `bench-${now}`,
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
  };
}

let sequence = 0;

/** A Lambda context for one invocation of `functionName`; each call gets a fresh request id. */
export function lambdaContext(functionName: string): Context {
  sequence += 1;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `bench-${process.pid}-${sequence}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
