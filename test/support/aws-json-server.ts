import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One answer of an AWS JSON 1.1 operation: the status and the body (an error names its `__type`). */
export interface AwsReply {
  status: number;
  body: unknown;
}

export const reply = (status: number, body: unknown): AwsReply => ({ status, body });

export interface AwsJsonServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A local HTTP server speaking AWS's JSON 1.1 protocol (the operation in `X-Amz-Target`, JSON in
 * and out), the shape of SSM, Secrets Manager and KMS alike, for stand-ins the SDK's endpoint is
 * pointed at. It does not check signatures.
 */
export async function startAwsJsonServer(operate: (target: string | undefined, input: Record<string, unknown>) => AwsReply): Promise<AwsJsonServer> {
  let served = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const { status, body } = operate(req.headers['x-amz-target'] as string | undefined, JSON.parse(raw || '{}') as Record<string, unknown>);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': String(++served) });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
