import { UnrecoverableError } from '../platform/queues/unrecoverable';
import { z } from 'zod';
import { logger } from '../platform/observability/logger';

/*
 * The job Lambda's answer, by handshake. A thrown error loses everything but its name and message
 * at the Lambda boundary (the runtime reports errorType, errorMessage and stackTrace only), so the
 * retry hints a processor's error carries would never reach the worker's backoff strategy. A worker
 * that reads failures as data says so in the invocation (`outcome: JOB_OUTCOME_VERSION`); only then
 * does the job Lambda return a marked outcome (`agendaJobOutcome`), failure included, and the
 * worker rebuilds an error from it that BullMQ and the backoff strategy treat like the processor's
 * own. Without the marker the Lambda keeps the old contract (bare result, thrown error), so a
 * worker deployed before the handshake still retries failures; an answer without the mark is a
 * Lambda from before it, and its payload is the result. Worker and Lambda may roll out in any order.
 */

/**
 * The outcome version this code writes and reads: a worker sends it as the invocation's `outcome`,
 * the job Lambda marks its answer with it as `agendaJobOutcome`. A Lambda answers old-style to any
 * other value, so a later version must still read a bare result and a FunctionError.
 */
export const JOB_OUTCOME_VERSION = 1;

const failureSchema = z.object({
  message: z.string(),
  type: z.string(),
  retryAfterMs: z.number().nonnegative().optional(),
  unrecoverable: z.boolean().optional(),
});

/** What the worker's retry decision needs from a processor's error, as it crosses the Lambda boundary. */
export type JobFailure = z.infer<typeof failureSchema>;

const mark = { agendaJobOutcome: z.literal(JOB_OUTCOME_VERSION) };

/**
 * A marked answer of the job Lambda, checked on the worker side as the two may be deployed apart.
 * `result` is optional: a processor's undefined leaves no key once serialised.
 */
export const jobOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({ ...mark, ok: z.literal(true), result: z.unknown().optional() }),
  z.object({ ...mark, ok: z.literal(false), error: failureSchema }),
]);

/** A job run by the job Lambda for a worker that asked for outcomes: its result, or its failure as data. */
export type JobOutcome = z.infer<typeof jobOutcomeSchema>;

/**
 * Whether an answer is a marked outcome rather than the bare result of a Lambda from before the
 * handshake. Any answer carrying the mark counts, so a malformed one fails instead of passing as a result.
 */
export const isMarkedOutcome = (payload: unknown): boolean =>
  typeof payload === 'object' && payload !== null && !Array.isArray(payload) && 'agendaJobOutcome' in payload;

/**
 * A job that failed inside the job Lambda, as the worker sees it. Carries the processor's
 * `retryAfterMs` under the same name as the processor's error did, so a backoff strategy reading
 * it (the webhook queue's, for Retry-After) decides the same in both modes.
 */
export class JobFunctionError extends Error {
  constructor(
    message: string,
    /** The processor's error name (`WebhookAttemptFailedError`), or the runtime's (`Sandbox.Timedout`). */
    readonly errorType?: string,
    /** The delay the failed attempt asked for, e.g. a webhook receiver's Retry-After. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'JobFunctionError';
  }
}

/** BullMQ's own test: an error named UnrecoverableError (ours, or BullMQ's class). */
const isUnrecoverable = (err: unknown) => (err as Error | undefined)?.name === 'UnrecoverableError';

/** The serialisable part of a processor's error that the retry decision depends on. */
export function failureOf(err: unknown): JobFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  const retryAfterMs = (e as { retryAfterMs?: unknown }).retryAfterMs;
  return {
    message: e.message,
    type: e.name,
    ...(typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0 && { retryAfterMs }),
    ...(isUnrecoverable(e) && { unrecoverable: true }),
  };
}

/** The error the worker throws for a failure: BullMQ fails an unrecoverable one at once, retries the rest. */
export function errorOf(failure: JobFailure): Error {
  if (failure.unrecoverable) return new UnrecoverableError(failure.message);
  return new JobFunctionError(failure.message, failure.type, failure.retryAfterMs);
}

/**
 * Runs a job in the job Lambda for a worker that asked for outcomes, turning whatever its processor
 * threw into a failure outcome, so the Lambda only fails as a function (FunctionError) when it
 * crashes or times out.
 */
export async function settleJob(run: () => Promise<unknown>): Promise<JobOutcome> {
  try {
    return { agendaJobOutcome: JOB_OUTCOME_VERSION, ok: true, result: await run() };
  } catch (err) {
    const error = failureOf(err);
    logger.warn('job.failed', { error: error.message, type: error.type, retryAfterMs: error.retryAfterMs, unrecoverable: error.unrecoverable });
    return { agendaJobOutcome: JOB_OUTCOME_VERSION, ok: false, error };
  }
}
