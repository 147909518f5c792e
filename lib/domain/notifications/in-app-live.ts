import { getDb } from '../../platform/db/client';
import { subscribersOf } from '../realtime/connections';
import type { Selection } from './in-app-claim';
import { deliverInApp, type InAppOutcome } from './in-app-delivery';

/** Most notices one appointment event retries. */
const EVENT_LIMIT = 100;
/**
 * Most sockets one notice is pushed to (the oldest subscribed first): the AWS SDK's default socket
 * pool per Management API client, so every push of a notice really is in flight at once and the
 * fan-out stays one round trip. Sockets past the cap (a clinic with more than 50 subscribed) do not
 * get that notice live; the notice is `sent` once any of the first 50 took it.
 */
export const IN_APP_MAX_TARGETS = 50;

/**
 * Pushes a subject's deliverable notices to every socket subscribed to the clinic or to the
 * subject's professional (at most {@link IN_APP_MAX_TARGETS}). A clinic with no subscribed socket
 * costs one query; its notices wait for the next subscribe.
 */
async function deliverToSubscribers(sel: Selection & ({ appointmentId: string } | { controlId: string }), now: Date): Promise<InAppOutcome> {
  const db = await getDb();
  const { clinicId } = sel;
  const listening = await db.socketConnection.count({ where: { clinicId, scope: { not: null }, apiKey: { revokedAt: null } } });
  if (listening === 0) return { sent: 0, failed: 0, stale: 0 };
  return deliverInApp(
    sel,
    (n, tx) => subscribersOf(tx, clinicId, n.professionalId, IN_APP_MAX_TARGETS),
    { limit: EVENT_LIMIT, stopOnFailure: false },
    now,
  );
}

/**
 * An appointment's event, or one of its reminders firing: its notices go out live to the sockets
 * already subscribed, instead of waiting for the next subscribe.
 */
export async function deliverAppointmentNotices(clinicId: string, appointmentId: string, now = new Date()): Promise<InAppOutcome> {
  return deliverToSubscribers({ clinicId, appointmentId }, now);
}

/**
 * A session package's event (a renewal request): its notices go out live, to the clinic's sockets
 * and those of the control's professional when it has one.
 */
export async function deliverControlNotices(clinicId: string, controlId: string, now = new Date()): Promise<InAppOutcome> {
  return deliverToSubscribers({ clinicId, controlId }, now);
}
