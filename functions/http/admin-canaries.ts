import { z } from 'zod';
import { getCanary, requestCanary } from '../../lib/canary/service';
import { requireAdmin } from '../../lib/http/admin-auth';
import { parseJsonBody } from '../../lib/http/body';
import { validate } from '../../lib/validation/validate';
import { httpHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { QUEUE_NAMES } from '../../lib/queues/names';

const createSchema = z.strictObject({
  queue: z.enum(QUEUE_NAMES).default('agenda'),
  /** Simulated work inside the processor, to watch a graceful drain. */
  workMs: z.number().int().min(0).max(60_000).default(0),
});
const idSchema = z.object({ id: z.uuid() });

/** POST /admin/canaries: write a canary row and enqueue it; 202 with its id. */
export const create = httpHandler(async (event) => {
  requireAdmin(event);
  const input = parseJsonBody(event, createSchema);
  const run = await requestCanary(input.queue, input.workMs);
  return json(202, run, { location: `/admin/canaries/${run.id}` });
});

/** GET /admin/canaries/{id}: whether, where and how the canary was processed. */
export const get = httpHandler(async (event) => {
  requireAdmin(event);
  const { id } = validate(idSchema, event.pathParameters ?? {}, 'path');
  return json(200, await getCanary(id));
});
