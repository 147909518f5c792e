import { ConflictError } from '../../platform/errors/app-error';
import { getWebhookQueue } from '../../platform/queues/queues';
import { deliveryJobOptions } from './retry-policy';

/** Job states in which a delivery is already queued to run soon: nothing to enqueue. */
const QUEUED_STATES: ReadonlySet<string> = new Set(['waiting', 'prioritized', 'waiting-children']);

/** 409 for a manual retry or replay of a delivery whose attempt is running right now. */
const deliveryInFlight = (deliveryId: string) =>
  new ConflictError('The delivery is being sent right now; retry it once this attempt has finished', { deliveryId, reason: 'delivery_in_flight' });

/**
 * Enqueues a delivery now. A finished job under the same id (a failed delivery's last job, kept for
 * inspection) is removed first, or BullMQ would deduplicate the new one into nothing; a delayed job
 * (waiting for its next retry) is promoted; a queued one is left alone. `markPending` runs before
 * the job is released, so a worker never runs it while the delivery still says failed.
 *
 * A job being sent cannot be touched (its attempt will record its own outcome): ConflictError. The
 * state read is only a hint: the job can turn active before `remove()` or `promote()`, which then
 * refuse (an active job is locked); the state after the refusal says whether it is in flight (409)
 * or merely moved on (another look, a bounded number of times).
 */
export async function enqueueDeliveryNow(deliveryId: string, markPending?: () => Promise<void>): Promise<void> {
  const queue = await getWebhookQueue();
  for (let look = 1; ; look++) {
    const job = await queue.getJob(deliveryId);
    const state = job ? await job.getState() : 'missing';
    if (QUEUED_STATES.has(state)) return;
    if (state === 'delayed') await markPending?.();
    try {
      if (state === 'delayed') return await job!.promote();
      // An active job is locked by its worker and refuses: the same path as one that turned
      // active after the state was read.
      await job?.remove();
    } catch (err) {
      const now = await queue.getJobState(deliveryId);
      if (now === 'active' || /locked/i.test((err as Error).message)) throw deliveryInFlight(deliveryId);
      if (look >= 3) throw err;
      continue;
    }
    await markPending?.();
    await queue.add('webhook.deliver', { deliveryId }, deliveryJobOptions(deliveryId));
    return;
  }
}
