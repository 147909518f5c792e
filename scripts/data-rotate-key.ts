import { parseArgs } from 'node:util';
import { rewrapKeys, rotateKey } from '../lib/platform/crypto/key-rotation';
import { getKeyring } from '../lib/platform/crypto/keyring';
import { reencryptAll } from '../lib/platform/crypto/reencrypt';
import { getDb, getPoolIfCreated } from '../lib/platform/db/client';
import { closeAll } from '../lib/platform/lifecycle/close-all';
import { loadSecrets } from '../lib/platform/secrets/load-secrets';

/**
 * `npm run data:rotate-key`: a new active data key, then every encrypted value sealed again under
 * it in batches (old keys stay, so reads never break meanwhile). `-- --hash-key`: a new e-mail hash
 * key, then every hash recomputed. `-- --rewrap`: no new key and no row touched, the data keys
 * re-wrapped by the configured wrapper (after a change of KMS key, or from the local key to KMS).
 * See docs/OPERATIONS.md, "Encryption at rest".
 */
async function main() {
  const { values } = parseArgs({
    options: { batch: { type: 'string', default: '500' }, 'hash-key': { type: 'boolean' }, rewrap: { type: 'boolean' } },
  });
  await loadSecrets();
  await getDb();
  const ring = getKeyring(getPoolIfCreated()!);
  if (values.rewrap) {
    console.log(`data:rotate-key ${await rewrapKeys(ring)} data keys re-wrapped`);
    return;
  }
  const purpose = values['hash-key'] ? 'hash' : 'data';
  console.log(`data:rotate-key new active ${purpose} key ${await rotateKey(ring, purpose)}`);
  const reports = await reencryptAll(ring, Number(values.batch));
  for (const r of reports) console.log(`data:rotate-key ${r.table}: ${r.updated} updated, ${r.failed} failed, ${r.raced} changed meanwhile`);
  if (reports.some((r) => r.failed > 0)) process.exitCode = 1;
}

main()
  .catch((err: Error) => {
    console.error(`data:rotate-key failed: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => closeAll());
