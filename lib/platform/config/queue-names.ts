/** The four queues. Functions only produce into them; the worker container consumes them. */
export const QUEUE_NAMES = ['agenda', 'webhook', 'notification', 'renovacao'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
