import { z } from 'zod';
import { requireAdmin } from '../../lib/http/admin-auth';
import { parseJsonBody } from '../../lib/http/body';
import { httpHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { createClinic } from '../../lib/tenancy/clinics';
import { text, timeZone } from '../../lib/validation/common';

const createSchema = z.strictObject({
  name: text(200),
  timeZone: timeZone.default('America/Sao_Paulo'),
  reminderOffsetsMinutes: z.array(z.number().int().min(5).max(60 * 24 * 14)).max(5).optional(),
});

/** POST /admin/clinics: bootstrap a clinic and its first API key (shown once in this response). */
export const create = httpHandler(async (event) => {
  requireAdmin(event);
  const { clinic, apiKey } = await createClinic(parseJsonBody(event, createSchema));
  return json(201, { clinic, apiKey }, { location: `/v1/clinic` });
});
