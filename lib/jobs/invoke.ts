import { InvokeCommand } from '@aws-sdk/client-lambda';
import { getLambdaClient } from '../platform/aws/lambda';
import { getConfig } from '../platform/config';
import { errorOf, isMarkedOutcome, JOB_OUTCOME_VERSION, JobFunctionError, jobOutcomeSchema } from './outcome';
import type { JobEnvelope } from './registry';

/**
 * The job Lambda's event: the fields a processor sees, minus the mode, plus the outcome version
 * this worker reads (./outcome). Required here so no caller can leave it out and lose the retry
 * hints silently; the job Lambda still accepts an event without it, from a worker older than it.
 */
export type JobInvocation = Omit<JobEnvelope, 'mode'> & { outcome: typeof JOB_OUTCOME_VERSION };

const parseJson = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
};

/**
 * Runs a job inside the job Lambda (RequestResponse), through the container's Lambda client, and
 * throws what the processor threw as the worker's backoff needs it (see ./outcome).
 * - A marked outcome (a Lambda that speaks the handshake): its result, or an UnrecoverableError or
 *   a JobFunctionError with the processor's retry hint.
 * - An unmarked answer (a Lambda deployed before the handshake): the processor's bare result.
 * - A function error: a crash, timeout or out of memory, or a processor's error thrown by a Lambda
 *   from before the handshake. Only errorType and errorMessage survive, so it is retried on the
 *   queue's schedule, or not at all when the type says UnrecoverableError.
 */
export async function invokeJobFunction(job: JobInvocation): Promise<unknown> {
  const { aws } = getConfig();
  const out = await getLambdaClient().send(
    new InvokeCommand({
      FunctionName: aws.jobFunctionName,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(job)),
    }),
  );
  const payload = parseJson(out.Payload ? Buffer.from(out.Payload).toString('utf8') : '');
  if (out.FunctionError) {
    const p = (payload ?? {}) as { errorMessage?: string; errorType?: string };
    throw errorOf({
      message: p.errorMessage ?? `Job function failed (${out.FunctionError})`,
      type: p.errorType ?? out.FunctionError,
      unrecoverable: p.errorType === 'UnrecoverableError',
    });
  }
  if (!isMarkedOutcome(payload)) return payload;
  const outcome = jobOutcomeSchema.safeParse(payload);
  if (!outcome.success) throw new JobFunctionError(`Job function ${aws.jobFunctionName} answered with a malformed job outcome`, 'InvalidJobOutcome');
  if (!outcome.data.ok) throw errorOf(outcome.data.error);
  return outcome.data.result;
}
