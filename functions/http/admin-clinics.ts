import { requireAdmin } from '../../lib/http/admin-auth';
import { parseJsonBody } from '../../lib/http/body';
import { httpHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { createClinic } from '../../lib/tenancy/clinics';
import { createClinicSchema } from '../../lib/tenancy/schemas';

/** POST /admin/clinics: bootstrap a clinic and its first API key (shown once in this response). */
export const create = httpHandler(async (event) => {
  requireAdmin(event);
  const { clinic, apiKey } = await createClinic(parseJsonBody(event, createClinicSchema));
  return json(201, { clinic, apiKey }, { location: `/v1/clinic` });
});
