import { z } from 'zod';
import type { JobInvocation } from '../../lib/jobs/invoke';
import { JOB_OUTCOME_VERSION, settleJob } from '../../lib/jobs/outcome';
import { runJob } from '../../lib/jobs/registry';
import { lambdaHandler } from '../../lib/platform/lambda/handler';
import { QUEUE_NAMES } from '../../lib/platform/config/queue-names';
import { validate } from '../../lib/platform/validation/validate';

const invocationSchema = z.object({
  queue: z.enum(QUEUE_NAMES),
  name: z.string().min(1),
  id: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  attemptsMade: z.number().int().min(0),
  scheduledAt: z.number().int().min(0).optional(),
  // Any version is accepted: one this function does not speak gets the old contract, not a failure.
  outcome: z.number().int().positive().optional(),
});

/** The event as any worker sends it: one from before the handshake has no `outcome`. */
type JobFunctionEvent = Omit<JobInvocation, 'outcome'> & { outcome?: number };

/**
 * The job Lambda: runs one queue job's processor when the worker dispatches that queue to Lambda.
 * A worker that asks for outcomes gets the processor's failure returned, not thrown, so its retry
 * hints reach the worker (lib/jobs/outcome). Any other worker gets the old contract: the bare
 * result, or the error thrown, which it retries.
 */
export const handler = lambdaHandler<JobFunctionEvent, unknown>(
  (event) => ({ queue: event?.queue, name: event?.name, jobId: event?.id, outcome: event?.outcome }),
  async (event) => {
    const { outcome, ...job } = validate(invocationSchema, event, 'job');
    const run = () => runJob({ ...job, mode: 'lambda' });
    return outcome === JOB_OUTCOME_VERSION ? settleJob(run) : run();
  },
);
