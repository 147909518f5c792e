/**
 * One simulated Lambda container for the pooler bench: its own process, so its own singletons
 * (pool, Prisma, Redis) under the environment the parent gave it (direct, or through PgBouncer).
 * Books what each message asks, all at once, and answers with each booking's latency and status.
 */
import { create } from '../../functions/http/appointments';
import { closeAll } from '../../lib/platform/lifecycle/close-all';
import { buildContext, buildHttpEvent } from '../../test/support/invoke';

export interface BookerRequest {
  id: number;
  key: string;
  patientId: string;
  bookings: { professionalId: string; startsAt: string }[];
}
export interface BookerAnswer {
  id: number;
  results: { ms: number; status: number; body?: string }[];
}

async function book(msg: BookerRequest): Promise<BookerAnswer> {
  const results = await Promise.all(
    msg.bookings.map(async (b) => {
      const event = buildHttpEvent({
        method: 'POST',
        path: '/v1/appointments',
        routeKey: 'POST /v1/appointments',
        headers: { authorization: `Bearer ${msg.key}` },
        body: { professionalId: b.professionalId, patientId: msg.patientId, startsAt: b.startsAt },
      });
      const started = performance.now();
      const res = await create(event, buildContext('agenda-bench-pooler'));
      return { ms: performance.now() - started, status: res.statusCode, ...(res.statusCode >= 500 && { body: String(res.body).slice(0, 300) }) };
    }),
  );
  return { id: msg.id, results };
}

process.on('message', (msg: BookerRequest | 'close') => {
  if (msg === 'close') {
    void closeAll().finally(() => process.exit(0));
    return;
  }
  void book(msg).then((answer) => process.send!(answer));
});
process.send!('ready');
