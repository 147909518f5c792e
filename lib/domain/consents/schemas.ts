import { z } from 'zod';
import { CONSENT_CHANNELS, CONSENT_SOURCES, CONSENT_STATUSES, LEGAL_BASIS_CODES } from './bases';

/** POST /v1/patients/{id}/consents: grant or revoke one channel; a grant names its legal basis. */
export const recordConsentBody = z
  .strictObject({
    channel: z.enum(CONSENT_CHANNELS),
    status: z.enum(CONSENT_STATUSES),
    basis: z.enum(LEGAL_BASIS_CODES).optional(),
    source: z.enum(CONSENT_SOURCES).optional(),
  })
  .refine((b) => b.status === 'revoked' || b.basis !== undefined, { message: 'a grant needs its legal basis', path: ['basis'] });
export type RecordConsentInput = z.infer<typeof recordConsentBody>;
