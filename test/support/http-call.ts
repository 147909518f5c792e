/** An answer over real HTTP: status, parsed JSON body, headers, and how long it took. */
export interface HttpAnswer {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

/** A JSON request to `base` (serverless-offline's HTTP API), with an API key or admin secret as Bearer. */
export async function httpCall(base: string, method: string, path: string, key?: string, body?: unknown): Promise<HttpAnswer> {
  const headers: Record<string, string> = { 'accept-language': 'en', ...(key && { authorization: `Bearer ${key}` }) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const started = Date.now();
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers, ms: Date.now() - started };
}

/**
 * The WebSocket URL to open a socket of this key's clinic: a single-use ticket minted through the
 * HTTP API (`POST /v1/realtime/tickets`), since `$connect` takes nothing else.
 */
export async function socketUrlFor(httpUrl: string, websocketUrl: string, key: string): Promise<string> {
  const minted = await httpCall(httpUrl, 'POST', '/v1/realtime/tickets', key);
  if (minted.status !== 201) throw new Error(`ticket refused: ${minted.status} ${JSON.stringify(minted.body)}`);
  return `${websocketUrl}?ticket=${encodeURIComponent(minted.body.ticket)}`;
}
