/**
 * The job Lambda's outcome handshake, end to end without serverless-offline: the real job function
 * (functions/jobs/run-job.ts) runs the real processor in this process, behind a stand-in for the
 * Lambda service's Invoke API that answers as AWS does (a returned value as the payload; a thrown
 * one reduced to errorType/errorMessage with X-Amz-Function-Error). The worker's side is the real
 * invokeJobFunction through the real Lambda client. Between a worker and a Lambda that both speak
 * the handshake, whatever the processor decided (Retry-After, unrecoverable) must come out as the
 * error the webhook backoff strategy and BullMQ read inline; with either side deployed before it,
 * a success must stay a success and a failure a failure BullMQ retries.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newClinic } from '../support/clinic';
import { buildContext, post } from '../support/invoke';
import { useSuite } from '../support/suite';
import type { JobEnvelope } from '../../lib/jobs/registry';

/** A job Lambda's event, as any worker sends it. */
type JobEvent = Omit<JobEnvelope, 'mode'> & { outcome?: number };

const suite = useSuite({
  // LAMBDA_ENDPOINT names the stand-in Lambda service's port, known once it listens: set below, then
  // the container reloaded.
  env: { WEBHOOKS_ALLOW_LOOPBACK: 'true', WEBHOOK_TIMEOUT_MS: '2000', LAMBDA_ENDPOINT: undefined },
  modules: {
    runJob: () => import('../../functions/jobs/run-job'),
    invoke: () => import('../../lib/jobs/invoke'),
    outcome: () => import('../../lib/jobs/outcome'),
    fanOut: () => import('../../lib/domain/webhooks/fan-out'),
    webhookDeliver: () => import('../../lib/jobs/processors/webhook-deliver'),
    retryPolicy: () => import('../../lib/domain/webhooks/retry-policy'),
    db: () => import('../../lib/platform/db/client'),
    registry: () => import('../../lib/jobs/registry'),
    webhooks: () => import('../../functions/http/webhooks'),
    queues: () => import('../../lib/platform/queues/queues'),
    lambdaSdk: () => import('@aws-sdk/client-lambda'),
    lambdaClient: () => import('../../lib/platform/aws/lambda'),
  },
});
const { runJob, invoke, outcome, fanOut, webhookDeliver, retryPolicy, db, registry, webhooks, queues, lambdaSdk, lambdaClient } = suite.m;

type Reply = { status: number; headers?: Record<string, string> };
const replies: Reply[] = [];
let receiver: http.Server;
let receiverBase: string;

/**
 * What the stand-in Lambda service does with the next invocation: run the job function, run the
 * one deployed before the handshake, time out, or answer a given payload.
 */
let nextInvoke: 'run' | 'old' | 'timeout' | { payload: unknown } = 'run';
/** Payloads the job function returned, as they crossed the wire. */
const returned: unknown[] = [];
/** Function errors, as they crossed the wire. */
const thrown: unknown[] = [];
let lambda: http.Server;

/**
 * The job function as deployed before the handshake (commit 247ee10^): its schema drops fields it
 * does not know, `outcome` included; it returns the processor's result and throws its error.
 */
const oldJobFunction = ({ queue, name, id, data, attemptsMade }: JobEvent) => registry.runJob({ queue, name, id, data, attemptsMade, mode: 'lambda' });

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
      if (typeof mode === 'object') return answer(200, mode.payload);
      try {
        const event = JSON.parse(body) as JobEvent;
        const result = mode === 'old' ? await oldJobFunction(event) : await runJob.handler(event, buildContext('agenda-test-jobRunner', 120_000));
        const wire = JSON.parse(JSON.stringify(result ?? null)) as unknown;
        returned.push(wire);
        answer(200, wire);
      } catch (err) {
        // What the runtime keeps of a thrown error.
        const wire = { errorType: (err as Error).name, errorMessage: (err as Error).message, trace: [] };
        thrown.push({ errorType: wire.errorType, errorMessage: wire.errorMessage });
        answer(200, wire, 'Unhandled');
      }
    });
  });
  process.env.LAMBDA_ENDPOINT = await listen(lambda);
  await suite.reload();
});

afterAll(async () => {
  for (const srv of [receiver, lambda]) {
    srv.closeAllConnections();
    await new Promise((ok) => srv.close(ok));
  }
});

beforeEach(() => {
  replies.length = 0;
  returned.length = 0;
  thrown.length = 0;
  nextInvoke = 'run';
});

/** A pending delivery to the receiver (its queued job removed: this file runs the processor itself). */
async function pendingDelivery(): Promise<string> {
  const clinic = await newClinic();
  const created = await post(webhooks.create, '/v1/webhooks', { url: `${receiverBase}/hook`, eventTypes: ['appointment.created'] }, clinic.auth);
  expect(created.status).toBe(201);
  const event = await (await db.getDb()).outboxEvent.create({
    data: { clinicId: clinic.clinicId, type: 'appointment.created', aggregateId: '00000000-0000-4000-8000-00000000abcd', payload: {} },
  });
  const [deliveryId] = await fanOut.fanOutEvent(event);
  const queue = await queues.getWebhookQueue();
  await (await queue.getJob(deliveryId!))?.remove();
  return deliveryId!;
}

const job = (deliveryId: string, attemptsMade = 0) => ({ queue: 'webhook' as const, name: 'webhook.deliver', id: deliveryId, data: { deliveryId }, attemptsMade });
/** The job as the worker invokes it: with the outcome version it reads. */
const invocation = (deliveryId: string) => ({ ...job(deliveryId), outcome: 1 as const });
/** The same job run the two ways the worker runs it; resolves to what it threw. */
const inline = (deliveryId: string) =>
  webhookDeliver.processWebhookDelivery({ ...job(deliveryId), name: 'webhook.deliver', mode: 'inline' }).then(() => undefined, (e: unknown) => e as Error);
const viaLambda = (deliveryId: string) => invoke.invokeJobFunction(invocation(deliveryId)).then(() => undefined, (e: unknown) => e as Error);

/**
 * A worker deployed before the handshake, as it invoked (commit 247ee10^): the job without
 * `outcome`; it threw on a function error and took any other payload as the result.
 */
async function oldWorker(deliveryId: string): Promise<{ functionError?: string; payload: unknown }> {
  const out = await lambdaClient.getLambdaClient().send(
    new lambdaSdk.InvokeCommand({ FunctionName: 'agenda-test-jobRunner', InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(job(deliveryId))) }),
  );
  return { ...(out.FunctionError && { functionError: out.FunctionError }), payload: JSON.parse(Buffer.from(out.Payload!).toString('utf8')) };
}

describe('worker and job Lambda both speak the handshake: a failed attempt', () => {
  it("keeps the receiver's Retry-After: the webhook backoff waits as long as inline", async () => {
    const { webhookBackoffStrategy, WEBHOOK_BACKOFF_TYPE } = retryPolicy;
    replies.push({ status: 503, headers: { 'retry-after': '7' } }, { status: 503, headers: { 'retry-after': '7' } });
    const inlineErr = await inline(await pendingDelivery());
    const lambdaErr = await viaLambda(await pendingDelivery());

    // The job function answered with a marked failure outcome, not a function error.
    expect(returned).toEqual([{ agendaJobOutcome: 1, ok: false, error: { message: 'receiver answered 503', type: 'WebhookAttemptFailedError', retryAfterMs: 7000 } }]);
    expect(thrown).toEqual([]);
    expect(lambdaErr).toBeInstanceOf(outcome.JobFunctionError);
    expect(lambdaErr).toMatchObject({ message: 'receiver answered 503', errorType: 'WebhookAttemptFailedError', retryAfterMs: 7000 });
    expect(lambdaErr).not.toHaveProperty('name', 'UnrecoverableError');
    expect(webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, lambdaErr)).toBe(7000);
    expect(webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, lambdaErr)).toBe(webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, inlineErr));
  });

  it('without Retry-After, falls back to the schedule in both modes', async () => {
    const { webhookBackoffStrategy, WEBHOOK_BACKOFF_TYPE } = retryPolicy;
    replies.push({ status: 500 });
    const lambdaErr = await viaLambda(await pendingDelivery());
    expect(returned).toEqual([{ agendaJobOutcome: 1, ok: false, error: { message: 'receiver answered 500', type: 'WebhookAttemptFailedError' } }]);
    expect((lambdaErr as { retryAfterMs?: number }).retryAfterMs).toBeUndefined();
    const delay = webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, lambdaErr);
    expect(delay).toBeGreaterThanOrEqual(4000); // 5 s ± 20 %
    expect(delay).toBeLessThanOrEqual(6000);
  });

  it('a 410 comes back unrecoverable, so BullMQ does not retry, as inline', async () => {
    replies.push({ status: 410 }, { status: 410 });
    const inlineErr = await inline(await pendingDelivery());
    const lambdaErr = await viaLambda(await pendingDelivery());
    expect(returned).toEqual([{ agendaJobOutcome: 1, ok: false, error: expect.objectContaining({ type: 'UnrecoverableError', unrecoverable: true }) }]);
    expect(inlineErr).toHaveProperty('name', 'UnrecoverableError');
    expect(lambdaErr).toHaveProperty('name', 'UnrecoverableError');
    for (const err of [inlineErr, lambdaErr]) expect(err!.message).toMatch(/^Receiver answered 410 Gone; endpoint \S+ disabled$/);
  });

  it('an unknown job name is unrecoverable there too', async () => {
    const err = await invoke.invokeJobFunction({ queue: 'webhook', name: 'webhook.nope', id: 'x', data: {}, attemptsMade: 0, outcome: 1 }).catch((e: unknown) => e);
    expect(err).toHaveProperty('name', 'UnrecoverableError');
    expect((err as Error).message).toMatch(/No processor for job "webhook.nope"/);
  });
});

describe('worker and job Lambda both speak the handshake otherwise', () => {
  it("returns the processor's result", async () => {
    const deliveryId = await pendingDelivery();
    await expect(invoke.invokeJobFunction(invocation(deliveryId))).resolves.toEqual({ deliveryId, status: 200, attemptNo: 1 });
    expect(returned).toEqual([{ agendaJobOutcome: 1, ok: true, result: { deliveryId, status: 200, attemptNo: 1 } }]);
  });

  it('a processor that returns nothing: the outcome crosses the wire without `result`, and the job succeeds', async () => {
    const wire = JSON.parse(JSON.stringify(await outcome.settleJob(async () => undefined))) as unknown;
    expect(wire).toEqual({ agendaJobOutcome: 1, ok: true });
    nextInvoke = { payload: wire };
    await expect(invoke.invokeJobFunction(invocation('00000000-0000-4000-8000-000000000000'))).resolves.toBeUndefined();
  });

  it('a crash or timeout (a function error) is retried on the schedule, without hints', async () => {
    nextInvoke = 'timeout';
    const err = await invoke.invokeJobFunction(invocation('00000000-0000-4000-8000-000000000000')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(outcome.JobFunctionError);
    expect(err).not.toHaveProperty('name', 'UnrecoverableError');
    expect(err).toMatchObject({ errorType: 'Sandbox.Timedout', message: 'Task timed out after 120.00 seconds', retryAfterMs: undefined });
  });

  it('a marked answer that is not a valid outcome fails the job rather than pass as a result', async () => {
    for (const payload of [{ agendaJobOutcome: 1, ok: 'yes' }, { agendaJobOutcome: 2, ok: true, result: {} }, { agendaJobOutcome: 1, ok: false }]) {
      nextInvoke = { payload };
      const err = await invoke.invokeJobFunction(invocation('00000000-0000-4000-8000-000000000000')).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'JobFunctionError', errorType: 'InvalidJobOutcome' });
    }
  });
});

describe('a worker deployed before the handshake, with this job Lambda', () => {
  it("gets the processor's bare result for a success", async () => {
    const deliveryId = await pendingDelivery();
    const answer = await oldWorker(deliveryId);
    expect(answer).toEqual({ payload: { deliveryId, status: 200, attemptNo: 1 } });
  });

  it('gets a failure as a function error, so it still fails the attempt and BullMQ retries', async () => {
    replies.push({ status: 503, headers: { 'retry-after': '7' } });
    const answer = await oldWorker(await pendingDelivery());
    expect(answer).toEqual({ functionError: 'Unhandled', payload: expect.objectContaining({ errorType: 'WebhookAttemptFailedError', errorMessage: 'receiver answered 503' }) });
    expect(returned).toEqual([]);
  });

  it('gets a 410 as a function error named UnrecoverableError, which it does not retry', async () => {
    replies.push({ status: 410 });
    const answer = await oldWorker(await pendingDelivery());
    expect(answer).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'UnrecoverableError', errorMessage: expect.stringMatching(/410 Gone/) } });
  });

  it('the job Lambda answers old-style to an outcome version it does not speak', async () => {
    const deliveryId = await pendingDelivery();
    const event = { ...job(deliveryId), outcome: 2 };
    await expect(runJob.handler(event, buildContext('agenda-test-jobRunner', 120_000))).resolves.toEqual({ deliveryId, status: 200, attemptNo: 1 });
  });
});

describe('this worker, with a job Lambda deployed before the handshake', () => {
  it("takes the unmarked answer as the processor's result: the job succeeds, nothing is retried", async () => {
    const deliveryId = await pendingDelivery();
    nextInvoke = 'old';
    await expect(invoke.invokeJobFunction(invocation(deliveryId))).resolves.toEqual({ deliveryId, status: 200, attemptNo: 1 });
    expect(returned).toEqual([{ deliveryId, status: 200, attemptNo: 1 }]);
    const delivery = await (await db.getDb()).webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it("a thrown failure is retried on the schedule (the receiver's Retry-After is lost across the boundary)", async () => {
    const { webhookBackoffStrategy, WEBHOOK_BACKOFF_TYPE } = retryPolicy;
    replies.push({ status: 503, headers: { 'retry-after': '7' } });
    nextInvoke = 'old';
    const err = await viaLambda(await pendingDelivery());
    expect(thrown).toEqual([{ errorType: 'WebhookAttemptFailedError', errorMessage: 'receiver answered 503' }]);
    expect(err).toBeInstanceOf(outcome.JobFunctionError);
    expect(err).not.toHaveProperty('name', 'UnrecoverableError');
    expect(err).toMatchObject({ errorType: 'WebhookAttemptFailedError', message: 'receiver answered 503', retryAfterMs: undefined });
    const delay = webhookBackoffStrategy(1, WEBHOOK_BACKOFF_TYPE, err as Error);
    expect(delay).toBeGreaterThanOrEqual(4000);
    expect(delay).toBeLessThanOrEqual(6000);
  });

  it('a thrown UnrecoverableError is still unrecoverable', async () => {
    replies.push({ status: 410 });
    nextInvoke = 'old';
    const err = await viaLambda(await pendingDelivery());
    expect(thrown).toEqual([expect.objectContaining({ errorType: 'UnrecoverableError' })]);
    expect(err).toHaveProperty('name', 'UnrecoverableError');
    expect(err!.message).toMatch(/^Receiver answered 410 Gone; endpoint \S+ disabled$/);
  });
});

describe('failureOf / errorOf', () => {
  it('keep only a usable retry hint and the unrecoverable mark', () => {
    const { failureOf, errorOf } = outcome;
    expect(failureOf(Object.assign(new Error('x'), { retryAfterMs: -1 }))).toEqual({ message: 'x', type: 'Error' });
    expect(failureOf(Object.assign(new Error('x'), { retryAfterMs: '7000' }))).toEqual({ message: 'x', type: 'Error' });
    expect(failureOf('plain string')).toEqual({ message: 'plain string', type: 'Error' });
    const named = Object.assign(new Error('gone'), { name: 'UnrecoverableError' });
    expect(failureOf(named)).toEqual({ message: 'gone', type: 'UnrecoverableError', unrecoverable: true });
    expect(errorOf({ message: 'gone', type: 'UnrecoverableError', unrecoverable: true })).toHaveProperty('name', 'UnrecoverableError');
    expect(errorOf({ message: 'later', type: 'X', retryAfterMs: 0 })).toMatchObject({ retryAfterMs: 0, errorType: 'X' });
  });
});
