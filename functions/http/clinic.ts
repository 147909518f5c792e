import { parseJsonBody } from '../../lib/http/body';
import { clinicHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { updateClinic } from '../../lib/tenancy/clinics';
import { updateClinicSchema } from '../../lib/tenancy/schemas';

/** PATCH /v1/clinic: the caller's clinic settings. */
export const update = clinicHandler(async (event, auth) =>
  json(200, await updateClinic(auth.clinicId, parseJsonBody(event, updateClinicSchema))),
);
