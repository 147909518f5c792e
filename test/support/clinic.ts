import { randomUUID } from 'node:crypto';

/** A new clinic with its first API key, straight through the service (as `npm run clinic:create`). */
export async function newClinic(timeZone = 'America/Sao_Paulo') {
  const { createClinic } = await import('../../lib/domain/tenancy/clinics');
  const { clinic, apiKey } = await createClinic({ name: `Test clinic ${randomUUID().slice(0, 8)}`, timeZone });
  return { clinicId: clinic.id, key: apiKey.key, auth: { headers: { authorization: `Bearer ${apiKey.key}` } } };
}
