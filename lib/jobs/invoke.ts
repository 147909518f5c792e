import { InvokeCommand } from '@aws-sdk/client-lambda';
import { getLambdaClient } from '../aws/lambda';
import { getConfig } from '../config';
import { errorOf, JobFunctionError, jobOutcomeSchema } from './outcome';
import type { JobEnvelope } from './registry';

/** The job Lambda's event: the same fields a processor sees, minus the mode. */
export type JobInvocation = Omit<JobEnvelope, 'mode'>;

const parseJson = (text: string): unknown => {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
};

/**
 * Runs a job inside the job Lambda (RequestResponse), through the container's Lambda client, and
 * throws what the processor threw as the worker's backoff needs it (see ./outcome): an
 * UnrecoverableError, or a JobFunctionError with the processor's retry hint. A function error
 * (crash, timeout, out of memory: the runtime's errorType and errorMessage only) is retried on the
 * queue's schedule.
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
      // A job function that threw on its own (an older deployment) still says so by name.
      unrecoverable: p.errorType === 'UnrecoverableError',
    });
  }
  const outcome = jobOutcomeSchema.safeParse(payload);
  if (!outcome.success) throw new JobFunctionError(`Job function ${aws.jobFunctionName} answered without a job outcome`, 'InvalidJobOutcome');
  if (!outcome.data.ok) throw errorOf(outcome.data.error);
  return outcome.data.result;
}
