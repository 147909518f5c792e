import type { NotificationKind } from './templates';

/** Each channel gets its own row, so each has its own status and its own delivery path. */
export type NotificationChannel = 'email' | 'in_app';
/** `sent` and `skipped` are final; `pending` and `failed` notices can still go out on a later attempt. */
export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'skipped';

/**
 * The unique key of one notice: `<kind>:<appointment or control id>:<channel>:<what makes it one>`
 * (the start time for a confirmation or cancellation, offset and start time for a reminder, the
 * event id for a reschedule, the renewal request id for a renewal). A re-run of the event or the
 * reminder that made a notice hits this key and records nothing new.
 */
export const dedupeKey = (kind: NotificationKind, subjectId: string, channel: NotificationChannel, discriminator: string) =>
  `${kind}:${subjectId}:${channel}:${discriminator}`;
