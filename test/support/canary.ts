import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';
import { post, type HttpLambdaHandler } from './invoke';

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
  const client = new Client({ connectionString: TEST_DIRECT_DATABASE_URL });
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

/** Enqueues canaries through the HTTP function (POST /admin/canaries), as a client would. */
export async function enqueueCanaries(
  create: HttpLambdaHandler,
  adminSecret: string,
  count: number,
  workMs: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await post(create, '/admin/canaries', { queue: 'agenda', workMs }, { headers: { authorization: `Bearer ${adminSecret}` } });
    if (res.status !== 202) throw new Error(JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  return ids;
}

/** Polls until at least `min` jobs of the queue are active (taken by a worker). */
export async function waitActive(queue: { getActiveCount(): Promise<number> }, min: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await queue.getActiveCount()) < min) {
    if (Date.now() > deadline) throw new Error(`fewer than ${min} active jobs after ${timeoutMs} ms`);
    await sleep(50);
  }
}
