import { z } from 'zod';
import type { JobInvocation } from '../../lib/jobs/invoke';
import { settleJob, type JobOutcome } from '../../lib/jobs/outcome';
import { runJob } from '../../lib/jobs/registry';
import { lambdaHandler } from '../../lib/lambda/handler';
import { QUEUE_NAMES } from '../../lib/queues/names';
import { validate } from '../../lib/validation/validate';

const invocationSchema = z.object({
  queue: z.enum(QUEUE_NAMES),
  name: z.string().min(1),
  id: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  attemptsMade: z.number().int().min(0),
  scheduledAt: z.number().int().min(0).optional(),
});

/**
 * The job Lambda: runs one queue job's processor when the worker dispatches that queue to Lambda.
 * A processor's failure is returned, not thrown, so its retry hints reach the worker (lib/jobs/outcome).
 */
export const handler = lambdaHandler<JobInvocation, JobOutcome>(
  (event) => ({ queue: event?.queue, name: event?.name, jobId: event?.id }),
  async (event) => settleJob(() => runJob({ ...validate(invocationSchema, event, 'job'), mode: 'lambda' })),
);
