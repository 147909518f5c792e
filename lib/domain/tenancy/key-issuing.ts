import { getConfig } from '../../platform/config';
import { inTransaction } from '../../platform/db/transaction';
import { ConflictError, NotFoundError } from '../../platform/errors/app-error';
import { createApiKey, type AuthContext } from './api-keys';
import { DEFAULT_SCOPES, requireSubset, type Scope } from './scopes';

/**
 * Mints a key for the caller's clinic (its secret shown once). The scopes default to read and write;
 * a key can mint only keys whose scopes it holds itself (403 naming the others), so minting never
 * widens access. At most API_KEYS_PER_CLINIC_MAX keys are active per clinic (409,
 * `details.reason: api_key_limit`): the clinic's row is locked while the active keys are counted, so
 * concurrent mints queue behind each other and never pass the cap together.
 */
export async function issueApiKey(caller: AuthContext, name: string, scopes: readonly Scope[] = DEFAULT_SCOPES) {
  requireSubset(caller.scopes, scopes);
  const limit = getConfig().apiKeysPerClinicMax;
  return inTransaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM clinics WHERE id = ${caller.clinicId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw new NotFoundError('Clinic not found');
    const active = await tx.apiKey.count({ where: { clinicId: caller.clinicId, revokedAt: null } });
    if (active >= limit) {
      throw new ConflictError(`The clinic already has ${active} active API keys (at most ${limit}); revoke one first`, {
        reason: 'api_key_limit',
        limit,
      });
    }
    return createApiKey(tx, caller.clinicId, name, scopes);
  });
}
