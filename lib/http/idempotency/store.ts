import { getDb } from '../../platform/db/client';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import type { HttpResult } from '../response';
import type { IdempotentRequest } from './request';

/** How long a completed key replays its response. At least 24 h, as the API promises. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A claim still in progress after this long belongs to an invocation that died (Lambda timeout,
 * crash) before recording its outcome; a retry may take it over. Well above API Gateway's 29 s and
 * the functions' own timeouts, so a live request is never overtaken.
 */
export const IN_PROGRESS_LEASE_MS = 2 * 60 * 1000;

/** Response headers worth replaying with the body (the rest are per response or set again). */
const REPLAYED_HEADERS = ['content-type', 'location', 'cache-control'];

/** What `response_body` holds: the body exactly as sent (JSONB would reorder keys) and its headers. */
interface StoredResponse {
  body: string;
  headers: Record<string, string>;
}

interface ExistingRow {
  method: string;
  path: string;
  request_hash: string;
  status_code: number | null;
  response_body: StoredResponse | null;
}

/**
 * The rows of `idempotency_keys`, one per (clinic, key): the four steps the middleware takes with
 * a key, so that it never touches the table itself.
 */
export interface IdempotencyStore {
  /**
   * Claims the key for this request, or returns undefined when another request holds it. The
   * unique (clinic_id, key) index decides between concurrent requests; an expired row, or a claim
   * whose lease ended (its invocation died before recording anything), is taken over.
   */
  claim(req: IdempotentRequest): Promise<string | undefined>;
  /**
   * The answer for a key another request holds: its stored response with `Idempotent-Replayed:
   * true`; 422 when that request had another method, path or body; 409 while it still runs.
   */
  answer(req: IdempotentRequest): Promise<HttpResult>;
  /** Stores the response of a claimed request, to replay for IDEMPOTENCY_TTL_MS. */
  complete(claimId: string, result: HttpResult): Promise<void>;
  /** Gives the key back (after a 5xx), so that a retry runs the route again. */
  release(claimId: string): Promise<void>;
}

async function claim(req: IdempotentRequest): Promise<string | undefined> {
  const db = await getDb();
  const ttlSeconds = IDEMPOTENCY_TTL_MS / 1000;
  const leaseSeconds = IN_PROGRESS_LEASE_MS / 1000;
  const claimed = await db.$queryRaw<{ id: string }[]>`
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
  return claimed[0]?.id;
}

async function answer(req: IdempotentRequest): Promise<HttpResult> {
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

async function complete(claimId: string, result: HttpResult): Promise<void> {
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

async function release(claimId: string): Promise<void> {
  try {
    const db = await getDb();
    await db.$executeRaw`DELETE FROM idempotency_keys WHERE id = ${claimId}::uuid AND completed_at IS NULL`;
  } catch (err) {
    // The claim then ends with its lease (IN_PROGRESS_LEASE_MS).
    logger.warn('idempotency.release_failed', { error: (err as Error).message });
  }
}

/** The store in PostgreSQL, shared by every container. */
export const idempotencyStore: IdempotencyStore = { claim, answer, complete, release };
