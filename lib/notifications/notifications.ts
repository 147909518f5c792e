import { getDb } from '../db/client';
import type { JobContext } from '../jobs/registry';
import { logger } from '../observability/logger';
import { getNotificationQueue } from '../queues/queues';
import { requeuePending } from '../queues/requeue';
import { sendMail } from './mailer';
import { staleReason } from './stale';
import { renderNotification, type NotificationKind } from './templates';

export type NotificationChannel = 'email' | 'in_app';
export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'skipped';

/** Domain events that notify the patient, and the notice each one sends. */
export const EVENT_NOTIFICATIONS: Partial<Record<string, NotificationKind>> = {
  'appointment.created': 'confirmation',
  'appointment.rescheduled': 'reschedule',
  'appointment.cancelled': 'cancellation',
  'control.renewal_requested': 'renewal',
};

/**
 * The unique key of one notice: `<kind>:<appointment or control id>:<channel>:<what makes it one>`
 * (the start time for a confirmation or cancellation, offset and start time for a reminder, the
 * event id for a reschedule, the renewal request id for a renewal).
 */
export const dedupeKey = (kind: NotificationKind, subjectId: string, channel: NotificationChannel, discriminator: string) =>
  `${kind}:${subjectId}:${channel}:${discriminator}`;

/** The BullMQ job id of a notice's send: the notification id, so a re-enqueue adds nothing. */
export const notificationJobId = (notificationId: string) => notificationId;

interface Recipient {
  email: string | null;
  notifyEmail: boolean;
  notifyInApp: boolean;
}

interface NewNotice {
  clinicId: string;
  patientId: string;
  appointmentId?: string | null;
  controlId?: string | null;
  kind: NotificationKind;
  startsAt?: Date | null;
  subjectId: string;
  discriminator: string;
}

/**
 * Records one notice per channel, following the patient's preferences: e-mail `pending` when
 * `notifyEmail` and an address exist (else `skipped`: opted_out / no_email); in-app `pending` when
 * `notifyInApp` (else `skipped`). In-app rows are left `pending` for the WebSocket delivery (not
 * part of this module); only e-mail rows get a `notification.send` job. Inserts are
 * ON CONFLICT (dedupe_key) DO NOTHING, so running this twice records and enqueues one notice each.
 * Returns the ids of the e-mail notices enqueued.
 */
async function recordAndEnqueue(notice: NewNotice, to: Recipient): Promise<string[]> {
  const db = await getDb();
  const email = to.notifyEmail ? (to.email ? null : 'no_email') : 'opted_out';
  const inApp = to.notifyInApp ? null : 'opted_out';
  const rows = (
    [
      ['email', email],
      ['in_app', inApp],
    ] as const
  ).map(([channel, skipReason]) => ({
    clinicId: notice.clinicId,
    patientId: notice.patientId,
    appointmentId: notice.appointmentId ?? null,
    controlId: notice.controlId ?? null,
    kind: notice.kind,
    channel,
    status: skipReason ? 'skipped' : 'pending',
    skipReason,
    startsAt: notice.startsAt ?? null,
    dedupeKey: dedupeKey(notice.kind, notice.subjectId, channel, notice.discriminator),
  }));
  await db.notification.createMany({ data: rows, skipDuplicates: true }); // ON CONFLICT DO NOTHING
  const toSend = await db.notification.findMany({
    where: { dedupeKey: { in: rows.map((r) => r.dedupeKey) }, channel: 'email', status: { in: ['pending', 'failed'] } },
    select: { id: true, status: true },
  });
  if (toSend.length > 0) {
    const queue = await getNotificationQueue();
    for (const n of toSend) await enqueueSend(queue, n);
  }
  logger.info('notifications.recorded', { kind: notice.kind, subjectId: notice.subjectId, enqueued: toSend.length });
  return toSend.map((n) => n.id);
}

/**
 * Enqueues a notice's send under its id. A `pending` notice whose job is finished never got an
 * outcome (its attempts all failed before recording one, e.g. with the database down): BullMQ would
 * deduplicate a plain re-add into nothing, so that job is removed first and a re-run of the event
 * sends the notice. A `failed` notice keeps its last job (final, recorded); a live job is left alone.
 */
async function enqueueSend(queue: Awaited<ReturnType<typeof getNotificationQueue>>, n: { id: string; status: string }) {
  const jobId = notificationJobId(n.id);
  if (n.status === 'pending') await requeuePending(queue, 'notification.send', { notificationId: n.id }, { jobId });
  else await queue.add('notification.send', { notificationId: n.id }, { jobId });
}

const recipientSelect = { email: true, notifyEmail: true, notifyInApp: true } as const;

/**
 * Creates the notices a domain event calls for (confirmation, reschedule, cancellation, renewal)
 * and enqueues their e-mails. Other events, or a record gone since, notify nobody. Idempotent.
 */
export async function notifyForEvent(event: { id: string; clinicId: string; type: string; aggregateId: string; payload: unknown }): Promise<string[]> {
  const kind = EVENT_NOTIFICATIONS[event.type];
  if (!kind) return [];
  const db = await getDb();
  const payload = (event.payload && typeof event.payload === 'object' ? event.payload : {}) as Record<string, unknown>;
  if (kind === 'renewal') {
    const control = await db.appointmentControl.findFirst({
      where: { id: event.aggregateId, clinicId: event.clinicId },
      select: { id: true, patientId: true, patient: { select: recipientSelect } },
    });
    if (!control) return [];
    const requestId = typeof payload.requestId === 'string' ? payload.requestId : event.id;
    return recordAndEnqueue(
      { clinicId: event.clinicId, patientId: control.patientId, controlId: control.id, kind, subjectId: control.id, discriminator: requestId },
      control.patient,
    );
  }
  const appt = await db.appointment.findFirst({
    where: { id: event.aggregateId, clinicId: event.clinicId },
    select: { id: true, patientId: true, startsAt: true, patient: { select: recipientSelect } },
  });
  if (!appt) return [];
  // The start time the event was about (a later move has its own event and notice).
  const startsAt = typeof payload.startsAt === 'string' ? new Date(payload.startsAt) : appt.startsAt;
  return recordAndEnqueue(
    {
      clinicId: event.clinicId,
      patientId: appt.patientId,
      appointmentId: appt.id,
      kind,
      startsAt,
      subjectId: appt.id,
      discriminator: kind === 'reschedule' ? event.id : startsAt.toISOString(),
    },
    appt.patient,
  );
}

/** Creates and enqueues the reminder notices of one due `appointment.reminder` job. Idempotent. */
export async function notifyReminder(appointmentId: string, offsetMinutes: number, startsAtIso: string): Promise<string[]> {
  const db = await getDb();
  const appt = await db.appointment.findUnique({
    where: { id: appointmentId },
    select: { id: true, clinicId: true, patientId: true, patient: { select: recipientSelect } },
  });
  if (!appt) return [];
  const startsAt = new Date(startsAtIso);
  return recordAndEnqueue(
    {
      clinicId: appt.clinicId,
      patientId: appt.patientId,
      appointmentId: appt.id,
      kind: 'reminder',
      startsAt,
      subjectId: appt.id,
      discriminator: `${offsetMinutes}:${startsAt.toISOString()}`,
    },
    appt.patient,
  );
}

// ---------------------------------------------------------------------------------------------
// Sending

export type SendOutcome =
  | { notificationId: string; status: 'sent' }
  | { notificationId: string; status: 'skipped'; reason: string }
  | { notificationId: string; already: NotificationStatus }
  | { notificationId: string; missing: true };

/** Reminder offsets are not stored; they are the third part of a reminder's discriminator. */
const reminderOffset = (key: string) => {
  const m = /^reminder:[^:]+:[^:]+:(\d+):/.exec(key);
  return m ? Number(m[1]) : null;
};

/** Redacts e-mail addresses from an SMTP error before it is stored or logged (LGPD). */
const redact = (message: string) => message.replace(/[^\s<>"'@]+@[^\s<>"'@]+/g, '<redacted>').slice(0, 500);

/**
 * `notification.send`: loads the notice, does nothing when it was already sent or skipped,
 * re-checks the patient's preference and the appointment (a cancelled or moved appointment never
 * gets a stale reminder, confirmation or reschedule notice: `skipped`), renders the e-mail in the
 * patient's language and sends it. Success: `sent`, attempts + 1, sent_at. Failure: `failed`,
 * attempts + 1, last_error, and the error is rethrown so BullMQ retries with backoff.
 */
export async function processNotificationSend(job: JobContext<'notification', 'notification.send'>): Promise<SendOutcome> {
  const { notificationId } = job.data;
  const db = await getDb();
  const n = await db.notification.findUnique({
    where: { id: notificationId },
    include: {
      clinic: { select: { name: true, timeZone: true } },
      patient: { select: { name: true, email: true, locale: true, notifyEmail: true } },
      appointment: { select: { status: true, startsAt: true, professional: { select: { name: true } } } },
      control: { select: { status: true, validUntil: true, sessionsUsed: true, sessionsTotal: true, professional: { select: { name: true } } } },
    },
  });
  if (!n) {
    logger.warn('notification.missing', { notificationId });
    return { notificationId, missing: true };
  }
  if (n.status === 'sent' || n.status === 'skipped') return { notificationId, already: n.status as NotificationStatus };
  const kind = n.kind as NotificationKind;

  const skipReason = ((): string | null => {
    if (n.channel !== 'email') return 'not_email';
    if (!n.patient.notifyEmail) return 'opted_out';
    if (!n.patient.email) return 'no_email';
    return staleReason({ kind, startsAt: n.startsAt, appointment: n.appointment, control: n.control });
  })();
  if (skipReason) {
    await db.notification.updateMany({ where: { id: n.id, status: { in: ['pending', 'failed'] } }, data: { status: 'skipped', skipReason } });
    logger.info('notification.skipped', { notificationId, kind, reason: skipReason });
    return { notificationId, status: 'skipped', reason: skipReason };
  }

  const mail = renderNotification({
    kind,
    locale: n.patient.locale,
    timeZone: n.clinic.timeZone,
    clinicName: n.clinic.name,
    patientName: n.patient.name,
    professionalName: n.appointment?.professional.name ?? n.control?.professional?.name ?? null,
    startsAt: n.startsAt ?? n.appointment?.startsAt ?? null,
    offsetMinutes: kind === 'reminder' ? reminderOffset(n.dedupeKey) : null,
    validUntil: n.control?.validUntil ?? null,
    sessionsUsed: n.control?.sessionsUsed ?? null,
    sessionsTotal: n.control?.sessionsTotal ?? null,
  });
  try {
    await sendMail({ to: n.patient.email!, ...mail, messageId: `<${n.id}@agenda.notifications>` });
  } catch (err) {
    const e = err as Error & { code?: string; responseCode?: number };
    const message = redact(e.message ?? String(err));
    await db.notification.updateMany({
      where: { id: n.id, status: { in: ['pending', 'failed'] } },
      data: { status: 'failed', attempts: { increment: 1 }, lastError: message },
    });
    logger.warn('notification.send_failed', { notificationId, kind, attempt: job.attemptsMade + 1, code: e.code, responseCode: e.responseCode });
    throw err;
  }
  await db.notification.update({
    where: { id: n.id },
    data: { status: 'sent', attempts: { increment: 1 }, sentAt: new Date(), lastError: null },
  });
  logger.info('notification.sent', { notificationId, kind, clinicId: n.clinicId });
  return { notificationId, status: 'sent' };
}
