import { getDb } from '../../platform/db/client';
import { logger } from '../../platform/observability/logger';
import { dedupeKey } from './notice';
import { enqueueSends } from './send-job';
import type { NotificationKind } from './templates';

/** The patient's side of a notice: what decides, per channel, whether it is sent or skipped. */
export interface Recipient {
  email: string | null;
  /** The e-mail / in-app consent as the patient row mirrors it (kept in step by a trigger). */
  notifyEmail: boolean;
  notifyInApp: boolean;
  blockedAt: Date | null;
  anonymizedAt: Date | null;
}

/** The Prisma selection that loads a {@link Recipient}, so every trigger reads the same fields. */
export const recipientSelect = { email: true, notifyEmail: true, notifyInApp: true, blockedAt: true, anonymizedAt: true } as const;

/** One notice before its channels split it in two rows; `discriminator` makes it unique (see ./notice). */
export interface NewNotice {
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
 * Records one notice per channel, following the patient's state and consent: an anonymised or
 * blocked patient gets every channel `skipped` (`anonymized`, `blocked`); else e-mail `pending`
 * when its consent is granted and an address exists (else `skipped`: opted_out / no_email), in-app
 * `pending` when its consent is granted (else `skipped`, opted_out). The send re-checks the
 * consent record itself (`no_consent` when revoked since). In-app rows stay `pending` for the
 * WebSocket delivery; only e-mail rows get a `notification.send` job. Inserts are ON CONFLICT (dedupe_key) DO NOTHING, so a re-run
 * records and enqueues one notice each. Returns the ids of the e-mail notices enqueued.
 */
export async function recordNotices(notice: NewNotice, to: Recipient): Promise<string[]> {
  const db = await getDb();
  const gate = to.anonymizedAt ? 'anonymized' : to.blockedAt ? 'blocked' : null;
  const email = gate ?? (to.notifyEmail ? (to.email ? null : 'no_email') : 'opted_out');
  const inApp = gate ?? (to.notifyInApp ? null : 'opted_out');
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
  await enqueueSends(toSend);
  logger.info('notifications.recorded', { kind: notice.kind, subjectId: notice.subjectId, enqueued: toSend.length });
  return toSend.map((n) => n.id);
}
