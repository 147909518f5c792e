import { InvokeCommand } from '@aws-sdk/client-lambda';
import { getLambdaClient } from '../aws/lambda';
import { getConfig } from '../config';
import type { JobEnvelope } from './registry';

/** The job Lambda's event: the same fields a processor sees, minus the mode. */
export type JobInvocation = Omit<JobEnvelope, 'mode'>;

/** Raised when the job Lambda ran and the processor threw; BullMQ then retries per its backoff. */
export class JobFunctionError extends Error {
  constructor(message: string, readonly errorType?: string) {
    super(message);
    this.name = 'JobFunctionError';
  }
}

/** Runs a job inside the job Lambda (RequestResponse), through the container's Lambda client. */
export async function invokeJobFunction(job: JobInvocation): Promise<unknown> {
  const { aws } = getConfig();
  const out = await getLambdaClient().send(
    new InvokeCommand({
      FunctionName: aws.jobFunctionName,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(job)),
    }),
  );
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  const payload: unknown = text ? JSON.parse(text) : undefined;
  if (out.FunctionError) {
    const p = (payload ?? {}) as { errorMessage?: string; errorType?: string };
    throw new JobFunctionError(p.errorMessage ?? `Job function failed (${out.FunctionError})`, p.errorType);
  }
  return payload;
}
