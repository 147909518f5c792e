import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { runJob } from '../../lib/jobs/registry';
import type { JobInvocation } from '../../lib/jobs/invoke';
import { beginInvocation } from '../../lib/observability/container';
import { logger } from '../../lib/observability/logger';
import { QUEUE_NAMES } from '../../lib/queues/names';

const invocationSchema = z.object({
  queue: z.enum(QUEUE_NAMES),
  name: z.string().min(1),
  id: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  attemptsMade: z.number().int().min(0),
});

/** The job Lambda: runs one queue job's processor when the worker dispatches that queue to Lambda. */
export const handler = middy<JobInvocation, unknown>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event, context) => {
    context.callbackWaitsForEmptyEventLoop = false;
    const invocation = beginInvocation();
    const job = invocationSchema.parse(event) as JobInvocation;
    logger.info('job.start', { queue: job.queue, name: job.name, jobId: job.id, ...invocation });
    return runJob({ ...job, mode: 'lambda' });
  });
