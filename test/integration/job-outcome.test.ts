/**
 * The job Lambda's failure result, end to end without serverless-offline: the real job function
 * (functions/jobs/run-job.ts) runs the real processor in this process, behind a stand-in for the
 * Lambda service's Invoke API that answers as AWS does (a returned value as the payload; a thrown
 * one reduced to errorType/errorMessage with X-Amz-Function-Error). The worker's side is the real
 * invokeJobFunction through the real Lambda client. Whatever the processor decided (Retry-After,
 * unrecoverable) must come out as the error the webhook backoff strategy and BullMQ read inline.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnrecoverableError } from 'bullmq';
import { newClinic } from '../support/clinic';
import { buildContext, post } from '../support/invoke';

process.env.WEBHOOKS_ALLOW_LOOPBACK = 'true';
process.env.WEBHOOK_TIMEOUT_MS = '2000';

type Reply = { status: number; headers?: Record<string, string> };
const replies: Reply[] = [];
let receiver: http.Server;
let receiverBase: string;

/** What the stand-in Lambda service does with the next invocation. */
let nextInvoke: 'run' | 'timeout' | 'garbage' = 'run';
/** Payloads the job function returned, as they crossed the wire. */
const returned: unknown[] = [];
let lambda: http.Server;

const runJob = () => require('../../functions/jobs/run-job') as typeof import('../../functions/jobs/run-job');
const invoke = () => require('../../lib/jobs/invoke') as typeof import('../../lib/jobs/invoke');
const outcome = () => require('../../lib/jobs/outcome') as typeof import('../../lib/jobs/outcome');
const deliver = () => require('../../lib/webhooks/deliver') as typeof import('../../lib/webhooks/deliver');
const getDb = () => (require('../../lib/db/client') as typeof import('../../lib/db/client')).getDb();

const listen = async (srv: http.Server) => {
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const r = replies.shift() ?? { status: 200 };
      res.writeHead(r.status, r.headers).end('ok');
    });
  });
  receiverBase = await listen(receiver);

  // POST /2015-03-31/functions/{name}/invocations, as the Lambda service answers a RequestResponse invoke.
  lambda = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const answer = (status: number, payload: unknown, functionError?: string) =>
        res.writeHead(status, { 'content-type': 'application/json', ...(functionError && { 'x-amz-function-error': functionError }) }).end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      const mode = nextInvoke;
      nextInvoke = 'run';
      if (mode === 'timeout') return answer(200, { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 120.00 seconds' }, 'Unhandled');
      if (mode === 'garbage') return answer(200, { delivered: true });
      try {
        const result = await runJob().handler(JSON.parse(body), buildContext('agenda-test-jobRunner', 120_000));
        const wire = JSON.parse(JSON.stringify(result ?? null)) as unknown;
        returned.push(wire);
        answer(200, wire);
      } catch (err) {
        // What the runtime keeps of a thrown error.
        answer(200, { errorType: (err as Error).name, errorMessage: (err as Error).message, trace: [] }, 'Unhandled');
      }
    });
  });
  process.env.LAMBDA_ENDPOINT = await listen(lambda);
});

afterAll(async () => {
  for (const srv of [receiver, lambda]) {
    srv.closeAllConnections();
    await new Promise((ok) => srv.close(ok));
  }
  await require('../../lib/lifecycle/close-all').closeAll();
});

beforeEach(() => {
  replies.length = 0;
  returned.length = 0;
});

/** A pending delivery to the receiver (its queued job removed: this file runs the processor itself). */
async function pendingDelivery(): Promise<string> {
  const clinic = await newClinic();
  const fns = require('../../functions/http/webhooks') as typeof import('../../functions/http/webhooks');
  const created = await post(fns.create, '/v1/webhooks', { url: `${receiverBase}/hook`, eventTypes: ['appointment.created'] }, clinic.auth);
  expect(created.status).toBe(201);
  const event = await (await getDb()).outboxEvent.create({
    data: { clinicId: clinic.clinicId, type: 'appointment.created', aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: {} },
  });
  const [deliveryId] = await deliver().fanOutEvent(event);
  const queue = await (require('../../lib/queues/queues') as typeof import('../../lib/queues/queues')).getWebhookQueue();
  await (await queue.getJob(deliveryId!))?.remove();
  return deliveryId!;
}

const job = (deliveryId: string, attemptsMade = 0) => ({ queue: 'webhook' as const, name: 'webhook.deliver', id: deliveryId, data: { deliveryId }, attemptsMade });
/** The same job run the two ways the worker runs it; resolves to what it threw. */
const inline = (deliveryId: string) =>
  deliver().processWebhookDelivery({ ...job(deliveryId), name: 'webhook.deliver', mode: 'inline' }).then(() => undefined, (e: unknown) => e as Error);
const viaLambda = (deliveryId: string) => invoke().invokeJobFunction(job(deliveryId)).then(() => undefined, (e: unknown) => e as Error);

describe('a failed attempt through the job Lambda', () => {
  it("keeps the receiver's Retry-After: the webhook backoff waits as long as inline", async () => {
    const { webhookBackoffStrategy, WEBHOOK_BACKOFF_TYPE } = deliver();
    replies.push({ status: 503, headers: { 'retry-after': '7' } }, { status: 503, headers: { 'retry-after': '7' } });
    const inlineErr = await inline(await pendingDelivery());
    const lambdaErr = await viaLambda(await pendingDelivery());

    // The job function answered with a failure result, not a function error.
    expect(returned).toEqual([{ ok: false, error: { message: 'receiver answered 503', type: 'WebhookAttemptFailedError', retryAfterMs: 7000 } }]);
    expect(lambdaErr).toBeInstanceOf(outcome().JobFunctionError);
    expect(lambdaErr).toMatchObject({ message: 'receiver answered 503', errorType: 'WebhookAttemptFailedError', retryAfterMs: 7000 });
    expect(lambdaErr).not.toBeInstanceOf(UnrecoverableError);
    expect(webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, lambdaErr)).toBe(7000);
    expect(webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, lambdaErr)).toBe(webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, inlineErr));
  });

  it('without Retry-After, falls back to the schedule in both modes', async () => {
    const { webhookBackoffStrategy, WEBHOOK_BACKOFF_TYPE } = deliver();
    replies.push({ status: 500 });
    const lambdaErr = await viaLambda(await pendingDelivery());
    expect(returned).toEqual([{ ok: false, error: { message: 'receiver answered 500', type: 'WebhookAttemptFailedError' } }]);
    expect((lambdaErr as { retryAfterMs?: number }).retryAfterMs).toBeUndefined();
    const delay = webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, lambdaErr);
    expect(delay).toBeGreaterThanOrEqual(4000); // 5 s ± 20 %
    expect(delay).toBeLessThanOrEqual(6000);
  });

  it('a 410 comes back unrecoverable, so BullMQ does not retry, as inline', async () => {
    replies.push({ status: 410 }, { status: 410 });
    const inlineErr = await inline(await pendingDelivery());
    const lambdaErr = await viaLambda(await pendingDelivery());
    expect(returned).toEqual([{ ok: false, error: expect.objectContaining({ type: 'UnrecoverableError', unrecoverable: true }) }]);
    expect(inlineErr).toBeInstanceOf(UnrecoverableError);
    expect(lambdaErr).toBeInstanceOf(UnrecoverableError);
    for (const err of [inlineErr, lambdaErr]) expect(err!.message).toMatch(/^Receiver answered 410 Gone; endpoint \S+ disabled$/);
  });

  it('an unknown job name is unrecoverable there too', async () => {
    const err = await invoke().invokeJobFunction({ queue: 'webhook', name: 'webhook.nope', id: 'x', data: {}, attemptsMade: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toMatch(/No processor for job "webhook.nope"/);
  });
});

describe('the job Lambda otherwise', () => {
  it("returns the processor's result", async () => {
    const deliveryId = await pendingDelivery();
    await expect(invoke().invokeJobFunction(job(deliveryId))).resolves.toEqual({ deliveryId, status: 200, attemptNo: 1 });
    expect(returned).toEqual([{ ok: true, result: { deliveryId, status: 200, attemptNo: 1 } }]);
  });

  it('a crash or timeout (a function error) is retried on the schedule, without hints', async () => {
    nextInvoke = 'timeout';
    const err = await invoke().invokeJobFunction(job('00000000-0000-4000-8000-000000000000')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(outcome().JobFunctionError);
    expect(err).not.toBeInstanceOf(UnrecoverableError);
    expect(err).toMatchObject({ errorType: 'Sandbox.Timedout', message: 'Task timed out after 120.00 seconds', retryAfterMs: undefined });
  });

  it('an answer that is not a job outcome fails the job (function and worker out of step)', async () => {
    nextInvoke = 'garbage';
    const err = await invoke().invokeJobFunction(job('00000000-0000-4000-8000-000000000000')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'JobFunctionError', errorType: 'InvalidJobOutcome' });
  });
});

describe('failureOf / errorOf', () => {
  it('keep only a usable retry hint and the unrecoverable mark', () => {
    const { failureOf, errorOf } = outcome();
    expect(failureOf(Object.assign(new Error('x'), { retryAfterMs: -1 }))).toEqual({ message: 'x', type: 'Error' });
    expect(failureOf(Object.assign(new Error('x'), { retryAfterMs: '7000' }))).toEqual({ message: 'x', type: 'Error' });
    expect(failureOf('plain string')).toEqual({ message: 'plain string', type: 'Error' });
    const named = Object.assign(new Error('gone'), { name: 'UnrecoverableError' });
    expect(failureOf(named)).toEqual({ message: 'gone', type: 'UnrecoverableError', unrecoverable: true });
    expect(errorOf({ message: 'gone', type: 'UnrecoverableError', unrecoverable: true })).toBeInstanceOf(UnrecoverableError);
    expect(errorOf({ message: 'later', type: 'X', retryAfterMs: 0 })).toMatchObject({ retryAfterMs: 0, errorType: 'X' });
  });
});
