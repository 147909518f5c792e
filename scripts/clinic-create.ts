import { parseArgs } from 'node:util';
import { closeAll } from '../lib/platform/lifecycle/close-all';
import { createClinic } from '../lib/domain/tenancy/clinics';
import { timeZone } from '../lib/platform/validation/common';

/** `npm run clinic:create -- --name "Clínica X" [--tz America/Sao_Paulo]`: a clinic and its first API key. */
async function main() {
  const { values } = parseArgs({ options: { name: { type: 'string' }, tz: { type: 'string', default: 'America/Sao_Paulo' } } });
  if (!values.name) throw new Error('--name is required');
  const tz = timeZone.safeParse(values.tz);
  if (!tz.success) throw new Error(`--tz: unknown time zone "${values.tz}"`);
  const { clinic, apiKey } = await createClinic({ name: values.name, timeZone: tz.data });
  console.log(`clinic ${clinic.id} (${clinic.name}, ${clinic.timeZone})`);
  console.log(`API key (shown once): ${apiKey.key}`);
}

main()
  .catch((err: Error) => {
    console.error(`clinic:create failed: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(() => closeAll());
