import { setMaxListeners } from 'node:events';
import { getApiGatewayClient, managementSdk } from '../../platform/aws/apigateway';

/** Where a WebSocket API's Management API lives, from a WebSocket event's request context. */
export function endpointFromEvent(ctx: { domainName?: string; stage?: string }): string {
  return `https://${ctx.domainName ?? 'localhost'}/${ctx.stage ?? ''}`;
}

export interface PushOptions {
  /** Aborts the call, retries included; one signal shared by many calls gives them one deadline. */
  signal?: AbortSignal;
}

const isGone = (err: unknown) =>
  (err as Error)?.name === 'GoneException' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410;

const sendOptions = (opts: PushOptions) => (opts.signal ? { abortSignal: opts.signal } : {});

/**
 * Sends one JSON message to one connection. Returns false when the connection is gone (410),
 * which callers treat as "forget this connection", not as an error.
 */
export async function pushToConnection(endpoint: string, connectionId: string, message: unknown, opts: PushOptions = {}): Promise<boolean> {
  const { PostToConnectionCommand } = await managementSdk();
  try {
    await (await getApiGatewayClient(endpoint)).send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(message)) }),
      sendOptions(opts),
    );
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/**
 * Closes one connection from the server side (DeleteConnection; API Gateway then runs
 * `$disconnect`). Returns false when it was already gone (410): either way it is closed.
 */
export async function closeConnection(endpoint: string, connectionId: string, opts: PushOptions = {}): Promise<boolean> {
  const { DeleteConnectionCommand } = await managementSdk();
  try {
    await (await getApiGatewayClient(endpoint)).send(new DeleteConnectionCommand({ ConnectionId: connectionId }), sendOptions(opts));
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    throw err;
  }
}

/**
 * Management API calls in flight at once: the AWS SDK's socket pool per client (50), so one batch is
 * one round trip; more would only queue inside the SDK, past their deadline.
 */
export const FAN_BATCH = 50;

/** `items` cut into runs of at most `size`, in order. */
export function batchesOf<T>(items: T[], size = FAN_BATCH): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

export interface FanOutcome {
  delivered: number;
  /** Connections that answered 410: the caller forgets them. */
  gone: string[];
  /** Pushes that failed otherwise (deadline included), for the caller to log. */
  failed: { connectionId: string; error: string }[];
  /** What to record when nothing was delivered: a failure's message (truncated), else `connection gone (410)`. */
  lastError: string | null;
}

/**
 * Sends one message to many connections at once, all under one deadline: the whole fan-out takes
 * about one round trip (at most `deadlineMs`), however many targets, which a caller holding a row
 * lock needs to know in advance. A push still unanswered at the deadline counts as failed.
 */
export async function pushToMany(targets: { endpoint: string; connectionId: string }[], message: unknown, deadlineMs: number): Promise<FanOutcome> {
  const signal = AbortSignal.timeout(deadlineMs);
  // Every call listens on the one signal; it lives for this fan-out only, so no listener can leak.
  setMaxListeners(0, signal);
  const results = await Promise.allSettled(targets.map((t) => pushToConnection(t.endpoint, t.connectionId, message, { signal })));
  const outcome: FanOutcome = { delivered: 0, gone: [], failed: [], lastError: null };
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      outcome.lastError = String((r.reason as Error)?.message ?? r.reason).slice(0, 500);
      outcome.failed.push({ connectionId: targets[i]!.connectionId, error: outcome.lastError });
    } else if (r.value) outcome.delivered++;
    else {
      outcome.gone.push(targets[i]!.connectionId);
      outcome.lastError ??= 'connection gone (410)';
    }
  });
  return outcome;
}
