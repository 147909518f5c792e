import { z } from 'zod';
import { text, timeZone } from '../validation/common';

export const createClinicSchema = z.strictObject({
  name: text(200),
  timeZone: timeZone.default('America/Sao_Paulo'),
  reminderOffsetsMinutes: z.array(z.number().int().min(5).max(60 * 24 * 14)).max(5).optional(),
});

export const createApiKeySchema = z.strictObject({ name: text(100) });
