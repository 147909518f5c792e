import { createCanarySchema } from '../../lib/canary/schemas';
import { getCanary, requestCanary } from '../../lib/canary/service';
import { requireAdmin } from '../../lib/http/admin-auth';
import { parseJsonBody } from '../../lib/http/body';
import { httpHandler, httpRouter } from '../../lib/http/handler';
import { pathId } from '../../lib/http/params';
import { json } from '../../lib/http/response';
import { createClinic as bootstrapClinic } from '../../lib/tenancy/clinics';
import { createClinicSchema } from '../../lib/tenancy/schemas';

/** POST /admin/canaries: write a canary row and enqueue it; 202 with its id. */
export const createCanary = httpHandler(async (event) => {
  requireAdmin(event);
  const input = parseJsonBody(event, createCanarySchema);
  const run = await requestCanary(input.queue, input.workMs);
  return json(202, run, { location: `/admin/canaries/${run.id}` });
});

/** GET /admin/canaries/{id}: whether, where and how the canary was processed. */
export const getCanaryRun = httpHandler(async (event) => {
  requireAdmin(event);
  return json(200, await getCanary(pathId(event)));
});

/** POST /admin/clinics: bootstrap a clinic and its first API key (shown once in this response). */
export const createClinic = httpHandler(async (event) => {
  requireAdmin(event);
  const { clinic, apiKey } = await bootstrapClinic(parseJsonBody(event, createClinicSchema));
  return json(201, { clinic, apiKey }, { location: `/v1/clinic` });
});

/** The admin function: operator routes behind ADMIN_SECRET. */
export const handler = httpRouter({
  'POST /admin/canaries': createCanary,
  'GET /admin/canaries/{id}': getCanaryRun,
  'POST /admin/clinics': createClinic,
});
