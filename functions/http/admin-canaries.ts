import { createCanarySchema } from '../../lib/canary/schemas';
import { getCanary, requestCanary } from '../../lib/canary/service';
import { requireAdmin } from '../../lib/http/admin-auth';
import { parseJsonBody } from '../../lib/http/body';
import { httpHandler } from '../../lib/http/handler';
import { pathId } from '../../lib/http/params';
import { json } from '../../lib/http/response';

/** POST /admin/canaries: write a canary row and enqueue it; 202 with its id. */
export const create = httpHandler(async (event) => {
  requireAdmin(event);
  const input = parseJsonBody(event, createCanarySchema);
  const run = await requestCanary(input.queue, input.workMs);
  return json(202, run, { location: `/admin/canaries/${run.id}` });
});

/** GET /admin/canaries/{id}: whether, where and how the canary was processed. */
export const get = httpHandler(async (event) => {
  requireAdmin(event);
  const id = pathId(event);
  return json(200, await getCanary(id));
});
