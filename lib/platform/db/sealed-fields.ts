import { getKeyring } from '../crypto/keyring';
import { getDb, getPoolIfCreated } from './client';

/**
 * Seals a value for raw SQL, which the Prisma extension does not see (a webhook secret rotated in
 * one UPDATE statement). Model queries need nothing of the kind: they seal and open by themselves.
 */
export async function sealForSql(plaintext: string): Promise<string> {
  await getDb();
  return getKeyring(getPoolIfCreated()!).seal(plaintext);
}
