/**
 * Child process for test/integration/double-booking.test.ts: imports the booking handler (its own
 * "container": pool, Redis, queues) and fires `count` concurrent POST /v1/appointments with one
 * body, then prints `RESULT <json array of statuses>` on stdout.
 * Usage: tsx test/support/book-concurrently.ts '<json {key, body, count}>'
 */
import { post } from './invoke';

async function main(): Promise<void> {
  const { key, body, count } = JSON.parse(process.argv[2] ?? '{}') as { key: string; body: unknown; count: number };
  const { create } = await import('../../functions/http/appointments');
  const auth = { headers: { authorization: `Bearer ${key}` } };
  const results = await Promise.all(Array.from({ length: count }, () => post(create, '/v1/appointments', body, auth)));
  process.stdout.write(`RESULT ${JSON.stringify(results.map((r) => r.status))}\n`);
  const { closeAll } = await import('../../lib/platform/lifecycle/close-all');
  await closeAll();
}

main().catch((err: Error) => {
  process.stderr.write(`book-concurrently failed: ${err.stack}\n`);
  process.exit(1);
});
