import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { logger } from '../../platform/observability/logger';
import { UnrecoverableError } from '../../platform/queues/unrecoverable';
import { disableEndpoint, recordEndpointFailure } from './endpoint-health';
import { afterFailure, parseRetryAfter, streakWarrantsDisable, WebhookAttemptFailedError } from './retry-policy';
import { sendSigned, type SendResult } from './send';
import { signedHeaders } from './signing';
import type { Resolver } from './ssrf';

let resolverOverride: Resolver | undefined;
/** Tests point the send-time lookup at addresses of their choosing; production uses the system's. */
export function setDeliveryResolverForTests(resolve: Resolver | undefined) {
  resolverOverride = resolve;
}

/**
 * One signed attempt of a delivery, recorded. 2xx: delivered. 410: the endpoint is disabled and the
 * delivery failed, no retry. Anything else (3xx included, timeouts, refused addresses): thrown, so
 * BullMQ retries on the webhook schedule. Idempotent: a delivered or failed delivery is skipped, so
 * a job re-run after a worker crash sends nothing twice. `attemptsMade` is the job's failed attempts
 * so far, which the retry schedule is keyed on.
 */
export async function attemptDelivery(deliveryId: string, attemptsMade: number) {
  const db = await getDb();
  const delivery = await db.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { endpoint: true } });
  if (!delivery) return { deliveryId, skipped: 'missing' };
  if (delivery.status !== 'pending') return { deliveryId, skipped: delivery.status };
  const { endpoint } = delivery;
  if (!endpoint.enabled) {
    await db.webhookDelivery.update({ where: { id: deliveryId }, data: { status: 'failed', nextAttemptAt: null } });
    return { deliveryId, skipped: 'endpoint_disabled' };
  }

  const { attempts: attemptNo } = await db.webhookDelivery.update({
    where: { id: deliveryId },
    data: { attempts: { increment: 1 } },
    select: { attempts: true },
  });
  const body = JSON.stringify(delivery.payload);
  const headers = signedHeaders(endpoint, deliveryId, new Date(), body);
  const { webhooks } = getConfig();
  const result = await sendSigned(endpoint.url, body, headers, {
    timeoutMs: webhooks.timeoutMs,
    allowLoopback: webhooks.allowLoopback,
    resolve: resolverOverride,
  });
  await db.webhookAttempt.create({
    data: {
      deliveryId,
      attemptNo,
      statusCode: result.statusCode ?? null,
      latencyMs: result.latencyMs,
      error: result.error?.slice(0, 1000) ?? null,
      responseExcerpt: result.excerpt ?? null,
    },
  });
  const status = result.statusCode;
  const log = { deliveryId, endpointId: endpoint.id, attemptNo, status, latencyMs: result.latencyMs, error: result.error };

  if (status !== undefined && status >= 200 && status < 300) {
    await inTransaction(async (tx) => {
      await tx.webhookDelivery.update({ where: { id: deliveryId }, data: { status: 'delivered', deliveredAt: new Date(), lastStatusCode: status, nextAttemptAt: null } });
      await tx.webhookEndpoint.update({ where: { id: endpoint.id }, data: { failureCount: 0, firstFailureAt: null } });
    });
    logger.info('webhook.delivered', log);
    return { deliveryId, status, attemptNo };
  }
  return recordFailure({ deliveryId, attemptsMade, endpoint, result, log });
}

interface Failure {
  deliveryId: string;
  attemptsMade: number;
  endpoint: { id: string; clinicId: string };
  result: SendResult;
  log: Record<string, unknown>;
}

/**
 * A failed attempt counts against its endpoint and then ends the delivery (410, or an endpoint
 * failing for too long: disabled) or schedules its retry. It only returns when the endpoint was
 * deleted meanwhile; otherwise it throws what BullMQ needs to retry or to stop.
 */
async function recordFailure({ deliveryId, attemptsMade, endpoint, result, log }: Failure) {
  const db = await getDb();
  const status = result.statusCode;
  const failedAt = new Date();
  const streak = await recordEndpointFailure(db, endpoint.id, failedAt);
  if (!streak) return { deliveryId, skipped: 'missing' };
  const disabling = { deliveryId, endpoint, lastStatusCode: status ?? null };

  if (status === 410) {
    await disableEndpoint({ ...disabling, disabledReason: 'receiver answered 410 Gone', payload: { reason: 'gone' } });
    logger.warn('webhook.endpoint_gone', log);
    throw new UnrecoverableError(`Receiver answered 410 Gone; endpoint ${endpoint.id} disabled`);
  }

  if (streakWarrantsDisable(streak.firstFailureAt, failedAt, getConfig().webhooks.disableAfterHours)) {
    const since = streak.firstFailureAt.toISOString();
    const payload = { reason: 'sustained_failures', firstFailureAt: since, failureCount: streak.failureCount };
    await disableEndpoint({ ...disabling, disabledReason: 'sustained_failures', payload });
    logger.warn('webhook.endpoint_disabled', { ...log, reason: 'sustained_failures' });
    throw new UnrecoverableError(`Endpoint ${endpoint.id} failing since ${since}; disabled`);
  }

  const err = new WebhookAttemptFailedError(result.error ?? `receiver answered ${status}`, parseRetryAfter(result.retryAfter));
  const { last, nextAttemptAt } = afterFailure(attemptsMade, deliveryId, err);
  await db.webhookDelivery.update({
    where: { id: deliveryId },
    data: { lastStatusCode: status ?? null, nextAttemptAt, ...(last && { status: 'failed' }) },
  });
  logger.warn('webhook.attempt_failed', { ...log, last });
  if (last) throw new UnrecoverableError(err.message);
  throw err;
}
