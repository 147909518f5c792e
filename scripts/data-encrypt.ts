import { parseArgs } from 'node:util';
import { getKeyring } from '../lib/platform/crypto/keyring';
import { reencryptAll } from '../lib/platform/crypto/reencrypt';
import { getDb, getPoolIfCreated } from '../lib/platform/db/client';
import { closeAll } from '../lib/platform/lifecycle/close-all';
import { loadSecrets } from '../lib/platform/secrets/load-secrets';

/**
 * `npm run data:encrypt [-- --batch 500]`: seals every encrypted column still in plaintext (rows
 * written before encryption at rest), moves values under a retired data key to the active one and
 * fills missing e-mail hashes, in bounded batches. Safe to stop and run again; it also finishes an
 * interrupted `data:rotate-key`. Exits 1 when a row could not be read (named in the log by id).
 */
async function main() {
  const { values } = parseArgs({ options: { batch: { type: 'string', default: '500' } } });
  await loadSecrets(); // DATABASE_URL and DATA_KEY_ENCRYPTION_KEY may be aws-sm:/aws-ssm: references
  await getDb();
  const reports = await reencryptAll(getKeyring(getPoolIfCreated()!), Number(values.batch));
  for (const r of reports) console.log(`data:encrypt ${r.table}: ${r.updated} updated, ${r.failed} failed, ${r.raced} changed meanwhile`);
  if (reports.some((r) => r.failed > 0)) process.exitCode = 1;
}

main()
  .catch((err: Error) => {
    console.error(`data:encrypt failed: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => closeAll());
