import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import { redactText } from '../../platform/observability/redact';
import { sendMail } from '../../platform/mail/mailer';
import type { NotificationStatus } from './notice';
import { hasGrantedConsent } from '../consents/store';
import { gateReason } from './consent-rule';
import { staleReason } from './stale';
import { renderNotification, type NotificationKind } from './templates';

/** The job's return value, kept by BullMQ: why a send did nothing is visible on the job. */
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

/**
 * Sends one e-mail notice. Everything is re-checked at send time, not when the notice was made:
 * a notice already sent or skipped does nothing, and a patient anonymised or blocked since, or
 * whose e-mail consent is no longer granted (`no_consent`, read from the consent records), or an
 * appointment cancelled or moved since, turns it `skipped` (see ./stale) instead of mailing news
 * that is no longer true. The e-mail is rendered in the patient's language. Success: `sent`,
 * attempts + 1, sent_at. Failure: `failed`, attempts + 1, last_error, and the error is rethrown so
 * BullMQ retries with backoff. `attemptsMade` (the job's failed attempts so far) only feeds the log.
 */
export async function sendEmailNotice(notificationId: string, attemptsMade: number): Promise<SendOutcome> {
  const db = await getDb();
  const n = await db.notification.findUnique({
    where: { id: notificationId },
    include: {
      clinic: { select: { name: true, timeZone: true } },
      patient: { select: { name: true, email: true, locale: true, blockedAt: true, anonymizedAt: true } },
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

  const consentGranted = await hasGrantedConsent(db, n.patientId, 'email');
  const skipReason = ((): string | null => {
    if (n.channel !== 'email') return 'not_email';
    const gate = gateReason({ anonymized: !!n.patient.anonymizedAt, blocked: !!n.patient.blockedAt, consentGranted });
    if (gate) return gate;
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
    // Stored on the row: redacted here (the error itself is redacted on its way to BullMQ, lib/jobs/registry.ts).
    const message = redactText(e.message ?? String(err)).slice(0, 500);
    await db.notification.updateMany({
      where: { id: n.id, status: { in: ['pending', 'failed'] } },
      data: { status: 'failed', attempts: { increment: 1 }, lastError: message },
    });
    logger.warn('notification.send_failed', { notificationId, kind, attempt: attemptsMade + 1, code: e.code, responseCode: e.responseCode });
    throw err;
  }
  await db.notification.update({
    where: { id: n.id },
    data: { status: 'sent', attempts: { increment: 1 }, sentAt: new Date(), lastError: null },
  });
  logger.info('notification.sent', { notificationId, kind, clinicId: n.clinicId });
  return { notificationId, status: 'sent' };
}
