import { createHash } from 'node:crypto';
import { getDb } from '../db/client';
import { IdempotencyInProgressError, IdempotencyKeyReusedError, ValidationError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { assertSafeJson, canonicalJson, readRawBody } from './body';
import { header } from './credentials';
import type { HttpEvent } from './types';
import type { HttpResult } from './response';

/** How long a completed key replays its response. At least 24 h, as the API promises. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A claim still in progress after this long belongs to an invocation that died (Lambda timeout,
 * crash) before recording its outcome; a retry may take it over. Well above API Gateway's 29 s and
 * the functions' own timeouts, so a live request is never overtaken.
 */
export const IN_PROGRESS_LEASE_MS = 2 * 60 * 1000;

/** `Idempotency-Key`: 1 to 255 printable ASCII characters. */
const KEY_FORMAT = /^[\x20-\x7E]{1,255}$/;

/** Response headers worth replaying with the body (the rest are per response or set again). */
const REPLAYED_HEADERS = ['content-type', 'location', 'cache-control'];

/** What `response_body` holds: the body exactly as sent (JSONB would reorder keys) and its headers. */
interface StoredResponse {
  body: string;
  headers: Record<string, string>;
}

interface ClaimedRow {
  id: string;
}

interface ExistingRow {
  method: string;
  path: string;
  request_hash: string;
  status_code: number | null;
  response_body: StoredResponse | null;
}

/** The request a key was first used for: method, path and a SHA-256 of the canonical body. */
export interface IdempotentRequest {
  clinicId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
}

/**
 * The idempotent request this event is, or undefined when idempotency does not apply (not a POST,
 * or no `Idempotency-Key` header). A malformed key is a 400; an oversize body a 413.
 */
export function idempotentRequest(event: HttpEvent, clinicId: string): IdempotentRequest | undefined {
  const method = (event.requestContext?.http?.method ?? '').toUpperCase();
  const key = header(event, 'idempotency-key');
  if (method !== 'POST' || key === undefined) return undefined;
  if (!KEY_FORMAT.test(key)) {
    throw new ValidationError('Invalid Idempotency-Key header', [
      { field: 'Idempotency-Key', problem: 'must be 1 to 255 printable ASCII characters' },
    ]);
  }
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
  return { clinicId, key, method, path, requestHash: hashBody(readRawBody(event)) };
}

/**
 * SHA-256 of the body's canonical JSON (key order and spacing do not matter), or of the raw text
 * when it is not JSON a route would accept (the route answers 400 and that answer is what replays).
 */
export function hashBody(raw: string): string {
  let text = raw;
  if (raw.trim() !== '') {
    try {
      const value: unknown = JSON.parse(raw);
      assertSafeJson(value); // bounds the nesting canonicalJson recurses through
      text = `json:${canonicalJson(value)}`;
    } catch {
      text = `raw:${raw}`;
    }
  } else {
    text = 'empty:';
  }
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Runs `route` at most once per (clinic, Idempotency-Key), Stripe-style:
 *
 * 1. One INSERT ... ON CONFLICT claims the key (the unique (clinic_id, key) index decides between
 *    concurrent requests). It also takes over a row that expired, or an in-progress claim older
 *    than IN_PROGRESS_LEASE_MS (its invocation died before recording anything).
 * 2. Not claimed: the key belongs to another request. Other method, path or body: 422. Still
 *    running: 409 with Retry-After 1. Completed: its stored response is replayed with
 *    `Idempotent-Replayed: true`.
 * 3. Claimed: the route runs; a response below 500 (4xx included) is stored and replays for 24 h;
 *    a 5xx releases the claim (the row is deleted) so that a retry runs the route again.
 *
 * `route` must not throw: it is given already mapped to a response (clinicHandler does that).
 */
export async function withIdempotency(req: IdempotentRequest, route: () => Promise<HttpResult>): Promise<HttpResult> {
  const db = await getDb();
  const ttlSeconds = IDEMPOTENCY_TTL_MS / 1000;
  const leaseSeconds = IN_PROGRESS_LEASE_MS / 1000;
  const claimed = await db.$queryRaw<ClaimedRow[]>`
    INSERT INTO idempotency_keys AS k (clinic_id, key, method, path, request_hash, expires_at)
    VALUES (${req.clinicId}::uuid, ${req.key}, ${req.method}, ${req.path}, ${req.requestHash},
            now() + make_interval(secs => ${ttlSeconds}))
    ON CONFLICT (clinic_id, key) DO UPDATE
      SET method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
          status_code = NULL, response_body = NULL, completed_at = NULL,
          created_at = now(), expires_at = EXCLUDED.expires_at
      WHERE k.expires_at <= now()
         OR (k.completed_at IS NULL AND k.created_at < now() - make_interval(secs => ${leaseSeconds}))
    RETURNING k.id::text AS id`;

  if (claimed.length === 0) return answerFromExisting(req);

  const claimId = claimed[0]!.id;
  let result: HttpResult;
  try {
    result = await route();
  } catch (err) {
    await release(claimId);
    throw err;
  }
  if (result.statusCode >= 500) {
    await release(claimId);
    return result;
  }
  await record(claimId, result);
  return result;
}

async function answerFromExisting(req: IdempotentRequest): Promise<HttpResult> {
  const db = await getDb();
  const rows = await db.$queryRaw<ExistingRow[]>`
    SELECT method, path, request_hash, status_code, response_body
    FROM idempotency_keys
    WHERE clinic_id = ${req.clinicId}::uuid AND key = ${req.key} AND expires_at > now()`;
  const row = rows[0];
  // Released (5xx) or expired between the claim attempt and this read: the caller may retry now.
  if (!row) throw new IdempotencyInProgressError('A request with this Idempotency-Key just finished without a stored response; retry');
  if (row.method !== req.method || row.path !== req.path || row.request_hash !== req.requestHash) {
    throw new IdempotencyKeyReusedError('This Idempotency-Key was already used for a different request', {
      header: 'Idempotency-Key',
      ...(row.method !== req.method || row.path !== req.path
        ? { problem: 'different method or path' }
        : { problem: 'different body' }),
    });
  }
  if (row.status_code === null || row.response_body === null) {
    throw new IdempotencyInProgressError('A request with this Idempotency-Key is still in progress; retry shortly');
  }
  logger.info('idempotency.replayed', { status: row.status_code });
  return {
    statusCode: row.status_code,
    headers: { ...row.response_body.headers, 'Idempotent-Replayed': 'true' },
    body: row.response_body.body,
  };
}

async function record(claimId: string, result: HttpResult): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) {
    if (REPLAYED_HEADERS.includes(k.toLowerCase())) headers[k] = String(v);
  }
  const stored: StoredResponse = {
    body: result.isBase64Encoded && result.body ? Buffer.from(result.body, 'base64').toString('utf8') : (result.body ?? ''),
    headers,
  };
  const db = await getDb();
  try {
    await db.$executeRaw`
      UPDATE idempotency_keys
      SET status_code = ${result.statusCode}, response_body = ${JSON.stringify(stored)}::jsonb, completed_at = now()
      WHERE id = ${claimId}::uuid`;
  } catch (err) {
    // The route ran and its answer goes out; a retry meets the claim (409) until the lease ends.
    logger.error('idempotency.record_failed', { error: (err as Error).message });
  }
}

/** Deletes a claim so that a retry runs the route again (after a 5xx). */
async function release(claimId: string): Promise<void> {
  try {
    const db = await getDb();
    await db.$executeRaw`DELETE FROM idempotency_keys WHERE id = ${claimId}::uuid AND completed_at IS NULL`;
  } catch (err) {
    // The claim then ends with its lease (IN_PROGRESS_LEASE_MS).
    logger.warn('idempotency.release_failed', { error: (err as Error).message });
  }
}

/**
 * `idempotency.purge` (worker scheduler): deletes expired keys in bounded batches, at most
 * `maxBatches` per run, off the request path. Correctness never waits for it: a claim takes over an
 * expired row by itself; the purge only keeps the table small.
 */
export async function purgeExpired(limit = 500, maxBatches = 20): Promise<{ deleted: number }> {
  const db = await getDb();
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await db.$executeRaw`
      DELETE FROM idempotency_keys WHERE id IN (
        SELECT id FROM idempotency_keys WHERE expires_at <= now() LIMIT ${limit})`;
    deleted += n;
    if (n < limit) break;
  }
  if (deleted > 0) logger.info('idempotency.purged', { deleted });
  return { deleted };
}
