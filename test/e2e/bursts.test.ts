/**
 * Bursts through the real `serverless offline` (each concurrent request a new container, as Lambda
 * scales out): 50 concurrent bookings of one slot give one 201 and 49 409s, 100 concurrent slot
 * reads give 100 200s, and no request times out or gets a 5xx. serverless-offline answers a Lambda
 * timeout as a 200 whose body says `LambdaTimeoutError`, so bodies are read too.
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { startOffline, type Offline } from '../support/processes';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';

let offline: Offline;
let key: string;
let professionalId: string;
let patientIds: string[];

beforeAll(async () => {
  offline = await startOffline({ QUEUE_PREFIX: `test-burst-${randomUUID().slice(0, 8)}` });
  const clinic = await newClinic();
  key = clinic.key;
  professionalId = (await newProfessional(clinic.clinicId)).id;
  patientIds = await Promise.all(Array.from({ length: 5 }, async () => (await newPatient(clinic.clinicId)).id));
  const { closeAll } = await import('../../lib/platform/lifecycle/close-all');
  await closeAll();
}, 180_000);

afterAll(async () => {
  await offline?.stop('SIGINT');
});

/** What one request came back as: its status, or `timeout` when the function ran out of time. */
async function outcome(res: Response): Promise<string> {
  const text = await res.text();
  return text.includes('LambdaTimeoutError') ? 'timeout' : String(res.status);
}

function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

const headers = () => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json', 'accept-language': 'en' });

it('answers 50 concurrent bookings of one slot with exactly one 201 and 49 409s', async () => {
  const startsAt = localAt(3, 10);
  const outcomes = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      fetch(`${offline.httpUrl}/v1/appointments`, {
        method: 'POST',
        headers: headers(),
        body: JSON.stringify({ professionalId, patientId: patientIds[i % patientIds.length], startsAt }),
      }).then(outcome),
    ),
  );
  expect(tally(outcomes)).toEqual({ 201: 1, 409: 49 });
}, 120_000);

it('answers 100 concurrent slot reads with 100 200s', async () => {
  const from = localAt(1, 0).slice(0, 10);
  const to = localAt(8, 0).slice(0, 10);
  const outcomes = await Promise.all(
    Array.from({ length: 100 }, () =>
      fetch(`${offline.httpUrl}/v1/professionals/${professionalId}/slots?from=${from}&to=${to}`, { headers: headers() }).then(outcome),
    ),
  );
  expect(tally(outcomes)).toEqual({ 200: 100 });
}, 120_000);
