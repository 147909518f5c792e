import type { JobContext } from '../../platform/queues/context';
import { sendEmailNotice, type SendOutcome } from '../../domain/notifications/send-email';

/**
 * `notification.send`: the job carries only the notice's id (no patient data in Redis); the notice
 * row holds the rest. Rethrows a failed send, so BullMQ retries with backoff.
 */
export async function processNotificationSend(job: JobContext<'notification', 'notification.send'>): Promise<SendOutcome> {
  return sendEmailNotice(job.data.notificationId, job.attemptsMade);
}
