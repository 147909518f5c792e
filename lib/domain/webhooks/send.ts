import http from 'node:http';
import https from 'node:https';
import { checkLiteralHost, checkUrlSyntax, ForbiddenWebhookTargetError, guardedLookup, type Resolver } from './ssrf';

/** Receivers' answers can be anything; an attempt's log keeps this much of the body. */
const EXCERPT_CHARS = 500;

/** What one attempt records: a status when the receiver answered, an error when it did not. */
export interface SendResult {
  statusCode?: number;
  latencyMs: number;
  error?: string;
  excerpt?: string;
  retryAfter?: string;
}

/** Per call rather than read from config, so the bench and tests can send with their own. */
export interface SendOptions {
  timeoutMs: number;
  allowLoopback: boolean;
  resolve?: Resolver;
}

/**
 * The POST runs on node:http(s) rather than fetch so the SSRF guard sees the address actually
 * connected to (a DNS answer can change after registration). A total timeout, no redirects
 * followed (one could point inside the network) and at most 64 KiB of response read keep a hostile
 * receiver from holding a worker. Never throws: a failure is an outcome to record, in `error`.
 */
export function sendSigned(rawUrl: string, body: string, headers: Record<string, string>, opts: SendOptions): Promise<SendResult> {
  const started = Date.now();
  const done = (r: Omit<SendResult, 'latencyMs'>): SendResult => ({ ...r, latencyMs: Date.now() - started });
  return new Promise((resolve) => {
    const syntax = checkUrlSyntax(rawUrl);
    if ('reason' in syntax) return resolve(done({ error: `forbidden: ${syntax.reason}` }));
    const url = syntax.url;
    try {
      checkLiteralHost(url, opts);
    } catch (err) {
      return resolve(done({ error: `forbidden: ${(err as Error).message}` }));
    }
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (r: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(r));
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        agent: false, // a fresh socket per attempt: every connection goes through the guarded lookup
        lookup: guardedLookup(opts) as never,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'agenda-webhooks/1', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 65_536) chunks.push(c);
          size += c.length;
          if (size >= 65_536) res.destroy();
        });
        const end = () =>
          finish({
            statusCode: res.statusCode,
            excerpt: Array.from(Buffer.concat(chunks).toString('utf8')).slice(0, EXCERPT_CHARS).join(''),
            retryAfter: res.headers['retry-after'],
          });
        res.on('end', end);
        res.on('close', end);
        res.on('error', end);
      },
    );
    const timer = setTimeout(() => {
      finish({ error: `timeout after ${opts.timeoutMs} ms` });
      req.destroy(new Error('timeout'));
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const forbidden = err instanceof ForbiddenWebhookTargetError || err.code === 'EWEBHOOKFORBIDDEN';
      finish({ error: forbidden ? `forbidden: ${err.message}` : `${err.code ?? 'error'}: ${err.message}` });
    });
    req.end(body);
  });
}
