import { getNotificationQueue } from '../../platform/queues/queues';
import { requeuePending } from '../../platform/queues/requeue';

/** The BullMQ job id of a notice's send: the notification id, so a re-enqueue adds nothing. */
export const notificationJobId = (notificationId: string) => notificationId;

type NotificationQueue = Awaited<ReturnType<typeof getNotificationQueue>>;

/**
 * A `pending` notice whose job is finished never got an outcome (its attempts all failed before
 * recording one, e.g. with the database down): BullMQ would deduplicate a plain re-add into
 * nothing, so that job is removed first and a re-run of the event sends the notice. A `failed`
 * notice keeps its last job (final, recorded); a live job is left alone.
 */
async function enqueueSend(queue: NotificationQueue, n: { id: string; status: string }) {
  const jobId = notificationJobId(n.id);
  if (n.status === 'pending') await requeuePending(queue, 'notification.send', { notificationId: n.id }, { jobId });
  else await queue.add('notification.send', { notificationId: n.id }, { jobId });
}

/** Enqueues one `notification.send` per notice, under its id; nothing to send opens no queue. */
export async function enqueueSends(notices: { id: string; status: string }[]): Promise<void> {
  if (notices.length === 0) return;
  const queue = await getNotificationQueue();
  for (const n of notices) await enqueueSend(queue, n);
}
