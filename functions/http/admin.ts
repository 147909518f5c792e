import { createCanarySchema } from '../../lib/domain/canary/schemas';
import { getCanary, requestCanary } from '../../lib/domain/canary/service';
import { createClinic as bootstrapClinic } from '../../lib/domain/tenancy/clinics';
import { createClinicSchema } from '../../lib/domain/tenancy/schemas';
import { json } from '../../lib/http/response';
import { adminRoute } from '../../lib/http/routes/admin';
import { httpRouter } from '../../lib/http/routes/function';
import { idParam } from '../../lib/platform/validation/common';

/** POST /admin/canaries: write a canary row and enqueue it; 202 with its id. */
export const createCanary = adminRoute({ body: createCanarySchema }, async ({ body }) => {
  const run = await requestCanary(body.queue, body.workMs);
  return json(202, run, { location: `/admin/canaries/${run.id}` });
});

/** GET /admin/canaries/{id}: whether, where and how the canary was processed. */
export const getCanaryRun = adminRoute({ path: idParam }, async ({ path }) => json(200, await getCanary(path.id)));

/** POST /admin/clinics: bootstrap a clinic and its first API key (shown once in this response). */
export const createClinic = adminRoute({ body: createClinicSchema }, async ({ body }) => {
  const { clinic, apiKey } = await bootstrapClinic(body);
  return json(201, { clinic, apiKey }, { location: `/v1/clinic` });
});

/** The admin function: operator routes behind ADMIN_SECRET. */
export const handler = httpRouter({
  'POST /admin/canaries': createCanary,
  'GET /admin/canaries/{id}': getCanaryRun,
  'POST /admin/clinics': createClinic,
});
