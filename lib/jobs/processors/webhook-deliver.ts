import { attemptDelivery } from '../../domain/webhooks/delivery';
import type { JobContext } from '../../platform/queues/context';

/**
 * `webhook.deliver`: one attempt of the delivery named by the job (its id is the delivery id).
 * The job's failed attempts so far key the retry schedule, so the delay recorded on the delivery
 * matches the one BullMQ waits.
 */
export const processWebhookDelivery = (job: JobContext<'webhook', 'webhook.deliver'>) => attemptDelivery(job.data.deliveryId, job.attemptsMade);
