import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { DateTime } from 'luxon';
import { create as createAppointmentHandler } from '../../functions/http/appointments';
import { getConfig } from '../../lib/platform/config';
import { QUEUE_NAMES } from '../../lib/platform/config/queue-names';
import { createClinic } from '../../lib/domain/tenancy/clinics';
import { sendSigned } from '../../lib/domain/webhooks/send';
import { signedHeaders } from '../../lib/domain/webhooks/signing';
import { createWebhookEndpoint } from '../../lib/domain/webhooks/endpoints';
// The same API Gateway event and Lambda context the tests invoke handlers with.
import { buildContext, buildHttpEvent } from '../../test/support/invoke';
import { benchQueuePrefix } from '../support/bench-env';
import { startBenchConsumers, type BenchConsumers } from '../support/consumers';
import { envInt } from '../support/env';
import { openBenchRedis, removeBenchQueues } from '../support/redis-clients';
import {
  BENCH_ZONE,
  CONSULTATIONS,
  benchClinicName,
  bookableGrid,
  insertPatient,
  insertProfessional,
  openFixtureClient,
  removeBenchClinic,
  removeStaleBenchClinics,
  type Booked,
} from '../support/scheduling';
import { ms, ratio, summarize, type LatencySummary } from '../support/stats';
import { WebhookReceiver } from '../support/webhook-receiver';
import type { BenchEntry, BenchResult } from '../types';

const ARRIVAL_TIMEOUT_MS = 10_000;

interface Series {
  label: string;
  samples: number[];
}


async function run(): Promise<BenchResult> {
  const n = envInt('BENCH_B2W_N', 200);
  const blockSize = envInt('BENCH_B2W_BLOCK', 20);
  const warmup = envInt('BENCH_B2W_WARMUP', 5);
  const config = getConfig();
  const prefix = benchQueuePrefix(config);
  if (!config.webhooks.allowLoopback) throw new Error('WEBHOOKS_ALLOW_LOOPBACK is off: the bench receiver listens on 127.0.0.1');
  const pg: Client = await openFixtureClient(config.db.url);
  const redis = await openBenchRedis(config.redis.url, 'agenda-bench-control');
  const notes: string[] = [];
  let clinicId: string | undefined;
  let receiver: WebhookReceiver | undefined;
  let consumers: BenchConsumers | undefined;
  try {
    const stale = await removeStaleBenchClinics(pg);
    if (stale > 0) notes.push(`Removed ${stale} bench clinic(s) an earlier, interrupted run had left.`);
    const { clinic, apiKey } = await createClinic({ name: benchClinicName('webhook'), timeZone: BENCH_ZONE });
    clinicId = clinic.id;
    const professionalId = await insertProfessional(pg, clinic.id, CONSULTATIONS, 'Bench webhook pro');
    const patientId = await insertPatient(pg, clinic.id);
    // No e-mail: the domain event still records the notices (skipped), but sends nothing to any SMTP server.
    await pg.query('UPDATE patients SET notify_email = false WHERE id = $1', [patientId]);
    receiver = await WebhookReceiver.start();
    const endpoint = await createWebhookEndpoint(clinic.id, { url: receiver.url, eventTypes: ['appointment.created'] });
    receiver.secret = endpoint.secret;
    consumers = await startBenchConsumers({ prefix, clientName: 'agenda-bench-worker' });

    const from = DateTime.now().setZone(BENCH_ZONE).plus({ days: 2 }).startOf('day');
    let grid: Booked[] = [];
    for (let days = 30; grid.length < warmup + n; days *= 2) {
      grid = bookableGrid(CONSULTATIONS, { from: from.toJSDate(), to: from.plus({ days }).toJSDate() }, []);
    }
    let next = 0;
    let template: string | undefined;
    let unverified = 0;

    const e2e: Series = { label: 'booking → webhook received (end to end)', samples: [] };
    const direct: Series = { label: 'direct signed POST → received (baseline)', samples: [] };
    const answered: number[] = [];
    const afterAnswer: number[] = [];
    const roundTrip: number[] = [];

    const book = async (record: boolean) => {
      const event = buildHttpEvent({
        method: 'POST',
        path: '/v1/appointments',
        routeKey: 'POST /v1/appointments',
        headers: { authorization: `Bearer ${apiKey.key}` },
        body: { professionalId, patientId, startsAt: grid[next++]!.start.toISOString() },
      });
      const context = buildContext('agenda-bench-webhook');
      const started = performance.now();
      const result = await createAppointmentHandler(event, context);
      const at201 = performance.now();
      if (result.statusCode !== 201) throw new Error(`booking answered ${result.statusCode}: ${String(result.body).slice(0, 300)}`);
      const arrival = await receiver!.arrival((JSON.parse(String(result.body)) as { id: string }).id, ARRIVAL_TIMEOUT_MS);
      if (!arrival.verified) unverified += 1;
      template = arrival.body;
      if (!record) return;
      e2e.samples.push(arrival.at - started);
      answered.push(at201 - started);
      afterAnswer.push(arrival.at - at201);
    };
    /** The same body as a real delivery (a fresh id), signed with the endpoint's secret, posted by the product's sender. */
    const post = async (record: boolean) => {
      const payload = JSON.parse(template!) as { data: Record<string, unknown> };
      const id = randomUUID();
      payload.data = { ...payload.data, id, eventId: randomUUID() };
      const body = JSON.stringify(payload);
      const headers = signedHeaders({ secret: endpoint.secret, previousSecret: null, previousSecretExpiresAt: null }, randomUUID(), new Date(), body);
      const started = performance.now();
      const result = await sendSigned(receiver!.url, body, headers, { timeoutMs: config.webhooks.timeoutMs, allowLoopback: true });
      const ended = performance.now();
      if (result.statusCode !== 200) throw new Error(`direct POST failed: ${result.statusCode ?? result.error}`);
      const arrival = await receiver!.arrival(id, ARRIVAL_TIMEOUT_MS);
      if (!arrival.verified) unverified += 1;
      if (!record) return;
      direct.samples.push(arrival.at - started);
      roundTrip.push(ended - started);
    };

    for (let i = 0; i < warmup; i += 1) await book(false);
    for (let i = 0; i < warmup; i += 1) await post(false);
    const runs = [(r: boolean) => book(r), (r: boolean) => post(r)];
    for (let done = 0, block = 0; done < n; done += blockSize, block += 1) {
      const count = Math.min(blockSize, n - done);
      for (const go of block % 2 === 0 ? runs : [...runs].reverse()) for (let i = 0; i < count; i += 1) await go(true);
    }

    // The receiver has the last webhook before the worker records it delivered: let it finish first.
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(20)) {
      const pending = await pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'",
        [endpoint.id],
      );
      if (pending.rows[0]!.n === 0) break;
    }
    const { rows } = await pg.query<{ status: string; attempts: number; n: number }>(
      'SELECT status, attempts, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY status, attempts',
      [endpoint.id],
    );
    const deliveries = rows.map((r) => `${r.n} ${r.status} after ${r.attempts} attempt(s)`).join(', ');
    const a = summarize(direct.samples);
    const b = summarize(e2e.samples);
    const row = (label: string, x: LatencySummary) => [label, ms(x.p50), ms(x.p90), ms(x.p99), ms(x.max), ms(x.mean)];
    notes.push(
      `Path: POST /v1/appointments (clinicHandler, createAppointment; after commit the outbox publication of appointment.created to ` +
        `the agenda queue) → the worker's agenda consumer runs domain.event (reminders, webhook fan-out: one delivery row and a ` +
        'webhook.deliver job, notices, realtime) → its webhook consumer runs webhook.deliver (a signed POST on a fresh socket) → ' +
        `the bench's receiver on 127.0.0.1. ${n} sequential bookings, each waiting for its webhook before the next, in blocks ` +
        `of ${blockSize} alternating with the direct POSTs (ABBA), after ${warmup} unmeasured of each.`,
      'No polling on the path: the booking publishes the event itself right after its commit, and idle BullMQ workers wait on a ' +
        `blocking pop that the new job's marker wakes at once. The outbox relay (every ${config.worker.outboxRelayEveryMs / 1000} s, ` +
        'events older than 5 s) only republishes what a failed enqueue left behind; it is not started here.',
      `In one process: the handler and the consumers (all queues inline, default concurrency) share the ${config.profile} ` +
        `profile's pool (max ${config.db.poolMax}) and the bench's CPU; in production they are a Lambda and the worker container.`,
      `Deliveries: ${deliveries}. Webhooks whose signature did not verify at the receiver: ${unverified}.`,
    );
    return {
      params: { n, blockSize, warmup, profile: config.profile, poolMax: config.db.poolMax, prefix },
      tables: [
        {
          title: `Booking to webhook, ${n} sequential bookings (ms)`,
          columns: ['path', 'p50', 'p90', 'p99', 'max', 'mean'],
          rows: [
            row(direct.label, a),
            row(e2e.label, b),
            ['ratio end to end / baseline', ratio(b.p50 / a.p50), ratio(b.p90 / a.p90), ratio(b.p99 / a.p99), ratio(b.max / a.max), ratio(b.mean / a.mean)],
          ],
        },
        {
          title: 'Where the end-to-end time goes (ms)',
          columns: ['stage', 'p50', 'p90', 'p99', 'max', 'mean'],
          rows: [
            row('booking answered 201 (from the call)', summarize(answered)),
            row('webhook received (after the 201)', summarize(afterAnswer)),
            row('direct signed POST, round trip to its 200', summarize(roundTrip)),
          ],
        },
      ],
      data: {
        e2eMs: b,
        directMs: a,
        answeredMs: summarize(answered),
        afterAnswerMs: summarize(afterAnswer),
        roundTripMs: summarize(roundTrip),
        deliveries: rows,
        samples: { e2e: e2e.samples, direct: direct.samples },
      },
      notes,
    };
  } finally {
    await consumers?.stop().catch((err: Error) => notes.push(`Stopping the consumers failed: ${err.message}`));
    await receiver?.close();
    if (clinicId) await removeBenchClinic(pg, clinicId).catch((err: Error) => notes.push(`Removing the bench clinic failed: ${err.message}`));
    const swept = await removeBenchQueues(redis, prefix, QUEUE_NAMES).catch((err: Error) => {
      notes.push(`Queue cleanup failed: ${err.message}`);
      return 0;
    });
    notes.push(
      `Cleanup: consumers stopped, receiver closed; bench clinic deleted (endpoint, deliveries, attempts, notices, appointments, ` +
        `outbox rows); the ${QUEUE_NAMES.length} queues under \`${prefix}\` obliterated${swept > 0 ? ` (${swept} leftover key(s) swept)` : ''}.`,
    );
    await pg.end();
    await redis.quit().catch(() => redis.disconnect());
  }
}

export const bookingToWebhook: BenchEntry = {
  name: 'booking to webhook',
  description:
    "End-to-end latency from a booking to its webhook at a local receiver, through the outbox, the agenda and webhook queues and the worker's consumers in process, vs. a direct signed POST to the same receiver.",
  run,
};
