import { z } from 'zod';
import { QUEUE_NAMES } from '../../platform/config/queue-names';

export const createCanarySchema = z.strictObject({
  queue: z.enum(QUEUE_NAMES).default('agenda'),
  workMs: z.number().int().min(0).max(60_000).default(0).meta({ description: 'Simulated work inside the processor, to watch a drain' }),
});
