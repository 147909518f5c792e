import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { JobsOptions, MinimalJob } from 'bullmq';
import { UnrecoverableError } from '../jobs/unrecoverable';
import { Webhook } from 'standardwebhooks';
import { getConfig } from '../config';
import { getDb, type Db } from '../db/client';
import { inTransaction } from '../db/transaction';
import { ConflictError } from '../errors/app-error';
import type { JobContext } from '../jobs/registry';
import { logger } from '../observability/logger';
import { publishEvents, recordEvent, type NewDomainEvent } from '../outbox/outbox';
import { getWebhookQueue } from '../queues/queues';
import { requeuePending } from '../queues/requeue';
import { checkLiteralHost, checkUrlSyntax, ForbiddenWebhookTargetError, guardedLookup, type Resolver } from './ssrf';

/** Delays before retries 1..7 (the first attempt runs at once): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
/** Attempts in all: the immediate one plus one per retry delay. */
export const WEBHOOK_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** The BullMQ backoff type of webhook jobs, computed by `webhookBackoffStrategy`. */
export const WEBHOOK_BACKOFF_TYPE = 'webhook';
/**
 * A Retry-After beyond 24 h is capped: enough for a receiver's overnight maintenance window, while
 * a typo or a hostile value (years) cannot park a delivery indefinitely.
 */
export const MAX_RETRY_AFTER_MS = 86_400_000;
/**
 * A failure more than this after the endpoint's previous one starts a new failure streak (26 h).
 * It exceeds the longest wait the schedule can put between two attempts of one delivery (10 h with
 * +20 % jitter, or a Retry-After capped at 24 h) plus 2 h for a busy queue, so a delivery that is
 * still retrying keeps its streak going; an endpoint that was quiet for longer starts over, and one
 * transient error after a streak that ended days ago cannot disable it.
 */
export const FAILURE_STREAK_GAP_MS = Math.max(Math.max(...RETRY_DELAYS_MS) * 1.2, MAX_RETRY_AFTER_MS) + 2 * 3_600_000;
const EXCERPT_CHARS = 500;

/** Thrown for a failed attempt BullMQ should retry; carries the receiver's Retry-After, if any. */
export class WebhookAttemptFailedError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'WebhookAttemptFailedError';
  }
}

/**
 * The jitter of one retry, a factor in [0.8, 1.2) drawn from a hash of the delivery and the attempt
 * instead of Math.random: BullMQ's backoff strategy (in the worker) and the processor recording
 * `nextAttemptAt` (in the worker or the job Lambda) compute the delay separately and must agree.
 * Deliveries failing together still spread out, each id drawing its own factor.
 */
export function jitterFactor(deliveryId: string, attemptsMade: number): number {
  const digest = createHash('sha256').update(`${deliveryId}:${attemptsMade}`).digest();
  return 0.8 + 0.4 * (digest.readUInt32BE(0) / 2 ** 32);
}

/**
 * The delay before the next attempt of `deliveryId` after `attemptsMade` failures: the schedule with
 * its jitter, or the receiver's Retry-After (capped) when that is longer. Never shorter than the
 * schedule: a receiver answering `Retry-After: 0` would otherwise burn every attempt in seconds.
 * `err` is read by shape: the WebhookAttemptFailedError inline, the JobFunctionError rebuilt from
 * the job Lambda's result (lib/jobs/outcome) in lambda mode.
 */
export function webhookDelay(attemptsMade: number, deliveryId: string, err?: Error): number {
  const base = RETRY_DELAYS_MS[Math.min(Math.max(attemptsMade, 1), RETRY_DELAYS_MS.length) - 1]!;
  const scheduled = Math.floor(base * jitterFactor(deliveryId, attemptsMade));
  const retryAfter = (err as WebhookAttemptFailedError | undefined)?.retryAfterMs;
  if (typeof retryAfter !== 'number' || !(retryAfter >= 0)) return scheduled;
  return Math.max(scheduled, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
}

/** Job options of a delivery: deduplicated by delivery id, retried on the webhook schedule. */
export const deliveryJobOptions = (deliveryId: string): JobsOptions => ({
  jobId: deliveryId,
  attempts: WEBHOOK_ATTEMPTS,
  backoff: { type: WEBHOOK_BACKOFF_TYPE },
});

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * BullMQ Worker `settings.backoffStrategy` (only called for non-built-in types, i.e. `webhook`).
 * Keyed on the job's delivery id, as the processor is, so both compute the same delay.
 */
export const webhookBackoffStrategy = (attemptsMade: number, _type?: string, err?: Error, job?: MinimalJob): number =>
  webhookDelay(attemptsMade, deliveryIdOf(job), err);

const deliveryIdOf = (job?: MinimalJob): string => {
  const id = (job?.data as { deliveryId?: unknown } | undefined)?.deliveryId;
  return typeof id === 'string' ? id : (job?.id ?? '');
};

// ---------------------------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------------------------

/**
 * Creates one delivery per enabled endpoint of the event's clinic subscribed to its type (a repeat
 * creates nothing: unique endpoint + event) and enqueues each pending delivery with its id as job
 * id (a repeat enqueue is deduplicated by BullMQ). Payload: `{ type, timestamp, data }`, ids only.
 */
export async function fanOutEvent(event: {
  id: string;
  clinicId: string;
  type: string;
  aggregateId: string;
  createdAt: Date;
  payload: unknown;
}): Promise<string[]> {
  const db = await getDb();
  const endpoints = await db.webhookEndpoint.findMany({
    where: { clinicId: event.clinicId, enabled: true, OR: [{ eventTypes: { has: event.type } }, { eventTypes: { has: '*' } }] },
    select: { id: true },
  });
  if (endpoints.length === 0) return [];
  const payload = eventPayload(event);
  await db.webhookDelivery.createMany({
    data: endpoints.map((e) => ({ endpointId: e.id, eventId: event.id, eventType: event.type, payload })),
    skipDuplicates: true, // ON CONFLICT DO NOTHING
  });
  const pending = await db.webhookDelivery.findMany({
    where: { eventId: event.id, endpointId: { in: endpoints.map((e) => e.id) }, status: 'pending' },
    select: { id: true },
  });
  const queue = await getWebhookQueue();
  // A delivery still pending whose job died (every attempt failed before recording) runs again.
  for (const d of pending) await requeuePending(queue, 'webhook.deliver', { deliveryId: d.id }, { ...deliveryJobOptions(d.id), jobId: d.id });
  return pending.map((d) => d.id);
}

/** The body of an event's delivery: `{ type, timestamp, data }`, ids only. Replays send the same. */
export function eventPayload(event: { id: string; type: string; aggregateId: string; createdAt: Date; payload: unknown }) {
  const extra = event.payload && typeof event.payload === 'object' ? (event.payload as Record<string, unknown>) : {};
  return { type: event.type, timestamp: event.createdAt.toISOString(), data: { ...extra, id: event.aggregateId, eventId: event.id } };
}

/** Job states in which a delivery is already queued to run soon: nothing to enqueue. */
const QUEUED_STATES: ReadonlySet<string> = new Set(['waiting', 'prioritized', 'waiting-children']);

/** 409 for a manual retry or replay of a delivery whose attempt is running right now. */
const deliveryInFlight = (deliveryId: string) =>
  new ConflictError('The delivery is being sent right now; retry it once this attempt has finished', { deliveryId, reason: 'delivery_in_flight' });

/**
 * Enqueues a delivery now. A finished job under the same id (a failed delivery's last job, kept for
 * inspection) is removed first, or BullMQ would deduplicate the new one into nothing; a delayed job
 * (waiting for its next retry) is promoted; a queued one is left alone. `markPending` runs before
 * the job is released, so a worker never runs it while the delivery still says failed.
 *
 * A job being sent cannot be touched (its attempt will record its own outcome): ConflictError. The
 * state read is only a hint: the job can turn active before `remove()` or `promote()`, which then
 * refuse (an active job is locked); the state after the refusal says whether it is in flight (409)
 * or merely moved on (another look, a bounded number of times).
 */
export async function enqueueDeliveryNow(deliveryId: string, markPending?: () => Promise<void>): Promise<void> {
  const queue = await getWebhookQueue();
  for (let look = 1; ; look++) {
    const job = await queue.getJob(deliveryId);
    const state = job ? await job.getState() : 'missing';
    if (QUEUED_STATES.has(state)) return;
    if (state === 'delayed') await markPending?.();
    try {
      if (state === 'delayed') return await job!.promote();
      // An active job is locked by its worker and refuses: the same path as one that turned
      // active after the state was read.
      await job?.remove();
    } catch (err) {
      const now = await queue.getJobState(deliveryId);
      if (now === 'active' || /locked/i.test((err as Error).message)) throw deliveryInFlight(deliveryId);
      if (look >= 3) throw err;
      continue;
    }
    await markPending?.();
    await queue.add('webhook.deliver', { deliveryId }, deliveryJobOptions(deliveryId));
    return;
  }
}

/**
 * The `webhook-signature` header: `v1,<sig>` with the current secret and, during the grace period
 * after a rotation, a second one with the previous secret, space-separated (Standard Webhooks):
 * a receiver still holding either secret verifies the delivery.
 */
export function signatureHeader(
  endpoint: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  msgId: string,
  timestamp: Date,
  body: string,
  now = new Date(),
): string {
  const sigs = [new Webhook(endpoint.secret).sign(msgId, timestamp, body)];
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    sigs.push(new Webhook(endpoint.previousSecret).sign(msgId, timestamp, body));
  }
  return sigs.join(' ');
}

// ---------------------------------------------------------------------------------------------
// One attempt
// ---------------------------------------------------------------------------------------------

export interface SendResult {
  statusCode?: number;
  latencyMs: number;
  error?: string;
  excerpt?: string;
  retryAfter?: string;
}

export interface SendOptions {
  timeoutMs: number;
  allowLoopback: boolean;
  resolve?: Resolver;
}

/**
 * POSTs a body through node:http(s) with the SSRF guard on the connected address, a total timeout,
 * no redirects followed and at most 64 KiB of response read. Never throws: failures are in `error`.
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

// ---------------------------------------------------------------------------------------------
// The processor
// ---------------------------------------------------------------------------------------------

let resolverOverride: Resolver | undefined;
/** Tests inject a resolver for the send-time lookup; production uses the system's. */
export function setDeliveryResolverForTests(resolve: Resolver | undefined) {
  resolverOverride = resolve;
}

/**
 * `webhook.deliver`: one signed attempt of a delivery, recorded. 2xx: delivered. 410: the endpoint
 * is disabled and the delivery failed, no retry. Anything else (3xx included, timeouts, refused
 * addresses): thrown, so BullMQ retries on the webhook schedule. Idempotent: a delivered or
 * failed delivery is skipped, so a job re-run after a worker crash sends nothing twice.
 */
export async function processWebhookDelivery(job: JobContext<'webhook', 'webhook.deliver'>) {
  const { deliveryId } = job.data;
  const db = await getDb();
  const delivery = await db.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { endpoint: true } });
  if (!delivery) return { deliveryId, skipped: 'missing' };
  if (delivery.status !== 'pending') return { deliveryId, skipped: delivery.status };
  const { endpoint } = delivery;
  if (!endpoint.enabled) {
    await db.webhookDelivery.update({ where: { id: deliveryId }, data: { status: 'failed', nextAttemptAt: null } });
    return { deliveryId, skipped: 'endpoint_disabled' };
  }

  const { attempts: attemptNo } = await db.webhookDelivery.update({
    where: { id: deliveryId },
    data: { attempts: { increment: 1 } },
    select: { attempts: true },
  });
  const body = JSON.stringify(delivery.payload);
  const timestamp = new Date();
  const signature = signatureHeader(endpoint, deliveryId, timestamp, body);
  const headers = {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signature,
  };
  const { webhooks } = getConfig();
  const result = await sendSigned(endpoint.url, body, headers, {
    timeoutMs: webhooks.timeoutMs,
    allowLoopback: webhooks.allowLoopback,
    resolve: resolverOverride,
  });
  await db.webhookAttempt.create({
    data: {
      deliveryId,
      attemptNo,
      statusCode: result.statusCode ?? null,
      latencyMs: result.latencyMs,
      error: result.error?.slice(0, 1000) ?? null,
      responseExcerpt: result.excerpt ?? null,
    },
  });
  const status = result.statusCode;
  const log = { deliveryId, endpointId: endpoint.id, attemptNo, status, latencyMs: result.latencyMs, error: result.error };

  if (status !== undefined && status >= 200 && status < 300) {
    await inTransaction(async (tx) => {
      await tx.webhookDelivery.update({ where: { id: deliveryId }, data: { status: 'delivered', deliveredAt: new Date(), lastStatusCode: status, nextAttemptAt: null } });
      await tx.webhookEndpoint.update({ where: { id: endpoint.id }, data: { failureCount: 0, firstFailureAt: null } });
    });
    logger.info('webhook.delivered', log);
    return { deliveryId, status, attemptNo };
  }

  const failedAt = new Date();
  const streak = await recordEndpointFailure(db, endpoint.id, failedAt);
  if (!streak) return { deliveryId, skipped: 'missing' }; // the endpoint was deleted meanwhile

  // Disabling an endpoint fails this delivery for good, and the clinic is told through a
  // `webhook.endpoint_disabled` event (its other endpoints, its clinic-wide sockets, whatever else
  // consumes the outbox), once however many deliveries fail at the same time.
  const disable = async (disabledReason: string, payload: NewDomainEvent['payload']) => {
    const eventId = await inTransaction(async (tx) => {
      await tx.webhookDelivery.update({ where: { id: deliveryId }, data: { status: 'failed', lastStatusCode: status ?? null, nextAttemptAt: null } });
      const { count } = await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, enabled: true }, data: { enabled: false, disabledReason } });
      if (count === 0) return undefined;
      return recordEvent(tx, { clinicId: endpoint.clinicId, type: 'webhook.endpoint_disabled', aggregateId: endpoint.id, payload });
    });
    if (eventId) await publishEvents([eventId]);
  };

  if (status === 410) {
    await disable('receiver answered 410 Gone', { reason: 'gone' });
    logger.warn('webhook.endpoint_gone', log);
    throw new UnrecoverableError(`Receiver answered 410 Gone; endpoint ${endpoint.id} disabled`);
  }

  // Failing continuously (no gap of FAILURE_STREAK_GAP_MS) for the configured time: disabled.
  const disableAfterMs = getConfig().webhooks.disableAfterHours * 3_600_000;
  if (failedAt.getTime() - streak.firstFailureAt.getTime() >= disableAfterMs) {
    const since = streak.firstFailureAt.toISOString();
    await disable('sustained_failures', { reason: 'sustained_failures', firstFailureAt: since, failureCount: streak.failureCount });
    logger.warn('webhook.endpoint_disabled', { ...log, reason: 'sustained_failures' });
    throw new UnrecoverableError(`Endpoint ${endpoint.id} failing since ${since}; disabled`);
  }

  const retryAfterMs = parseRetryAfter(result.retryAfter);
  const err = new WebhookAttemptFailedError(result.error ?? `receiver answered ${status}`, retryAfterMs);
  const last = job.attemptsMade + 1 >= WEBHOOK_ATTEMPTS;
  // The same delay BullMQ's strategy computes for this job (same key, same error), from about the
  // same instant: what GET deliveries shows is when the retry runs.
  const nextAttemptAt = last ? null : new Date(Date.now() + webhookDelay(job.attemptsMade + 1, deliveryId, err));
  await db.webhookDelivery.update({
    where: { id: deliveryId },
    data: { lastStatusCode: status ?? null, nextAttemptAt, ...(last && { status: 'failed' }) },
  });
  logger.warn('webhook.attempt_failed', { ...log, last });
  if (last) throw new UnrecoverableError(err.message);
  throw err;
}

/**
 * Counts a failed attempt against its endpoint, in one statement so concurrent deliveries cannot
 * lose a count or resurrect a streak a success just closed. The streak (`first_failure_at`) goes
 * on while failures follow each other within FAILURE_STREAK_GAP_MS; a failure after a longer quiet
 * spell, or the first since a success, starts a new one. Returns the streak after this failure.
 */
async function recordEndpointFailure(db: Db, endpointId: string, at: Date) {
  const quietSince = new Date(at.getTime() - FAILURE_STREAK_GAP_MS);
  const rows = await db.$queryRaw<{ first_failure_at: Date; failure_count: number }[]>`
    UPDATE "webhook_endpoints"
       SET "first_failure_at" = CASE WHEN "first_failure_at" IS NULL OR "last_failure_at" IS NULL OR "last_failure_at" < ${quietSince}::timestamptz
                                     THEN ${at}::timestamptz ELSE "first_failure_at" END,
           "failure_count" = CASE WHEN "first_failure_at" IS NULL OR "last_failure_at" IS NULL OR "last_failure_at" < ${quietSince}::timestamptz
                                  THEN 1 ELSE "failure_count" + 1 END,
           "last_failure_at" = GREATEST("last_failure_at", ${at}::timestamptz),
           "updated_at" = now()
     WHERE "id" = ${endpointId}::uuid
    RETURNING "first_failure_at", "failure_count"`;
  const row = rows[0];
  return row && { firstFailureAt: row.first_failure_at, failureCount: row.failure_count };
}
