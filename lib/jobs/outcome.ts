import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { logger } from '../observability/logger';

/*
 * The job Lambda's answer. A thrown error loses everything but its name and message at the Lambda
 * boundary (the runtime reports errorType, errorMessage and stackTrace only), so the retry hints a
 * processor's error carries would never reach the worker's backoff strategy. The job Lambda
 * therefore returns a job's failure as data, and the worker rebuilds an error from it that BullMQ
 * and the backoff strategy treat exactly like the processor's own error inline.
 */

const failureSchema = z.object({
  message: z.string(),
  type: z.string(),
  retryAfterMs: z.number().nonnegative().optional(),
  unrecoverable: z.boolean().optional(),
});

/** What the worker's retry decision needs from a processor's error, as it crosses the Lambda boundary. */
export type JobFailure = z.infer<typeof failureSchema>;

/** The job Lambda's result: checked on the worker side, as the two may be deployed apart. */
export const jobOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: failureSchema }),
]);

/** A job run by the job Lambda: its processor's result, or its failure as data. */
export type JobOutcome = z.infer<typeof jobOutcomeSchema>;

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

/** BullMQ's own test: an UnrecoverableError, or any error under that name. */
const isUnrecoverable = (err: unknown) => err instanceof UnrecoverableError || (err as Error | undefined)?.name === 'UnrecoverableError';

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
 * Runs a job in the job Lambda and turns whatever its processor threw into a failure result, so
 * the Lambda only fails as a function (FunctionError) when it crashes or times out.
 */
export async function settleJob(run: () => Promise<unknown>): Promise<JobOutcome> {
  try {
    return { ok: true, result: await run() };
  } catch (err) {
    const error = failureOf(err);
    logger.warn('job.failed', { error: error.message, type: error.type, retryAfterMs: error.retryAfterMs, unrecoverable: error.unrecoverable });
    return { ok: false, error };
  }
}
