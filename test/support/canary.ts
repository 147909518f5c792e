import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../setup/test-env';

export interface CanaryRow {
  id: string;
  queue: string;
  status: string;
  mode: string | null;
  processed_by: string | null;
  attempts: number;
}

/** Reads canary rows straight from PostgreSQL, independently of the product's client. */
export async function readCanaries(ids: string[]): Promise<CanaryRow[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<CanaryRow>('SELECT * FROM canary_runs WHERE id = ANY($1::uuid[])', [ids]);
    return rows;
  } finally {
    await client.end();
  }
}

/** Polls until every canary is processed, or fails with what is still pending. */
export async function waitProcessed(ids: string[], timeoutMs = 30_000): Promise<CanaryRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await readCanaries(ids);
    if (rows.length === ids.length && rows.every((r) => r.status === 'processed')) return rows;
    if (Date.now() > deadline) {
      throw new Error(`canaries not processed within ${timeoutMs} ms: ${JSON.stringify(rows.filter((r) => r.status !== 'processed'))}`);
    }
    await sleep(200);
  }
}
