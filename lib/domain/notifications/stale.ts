import type { AppointmentStatus } from '../appointments/schemas';
import { TRANSITIONS } from '../appointments/transitions';

/** A notice's subject as it stands now, next to the start time the notice recorded. */
export interface NoticeSubject {
  kind: string;
  startsAt: Date | null;
  appointment: { status: string; startsAt: Date } | null;
  control: { status: string } | null;
}

/** Scheduled or confirmed: a status that can still change is one whose appointment lies ahead. */
const isActive = (status: string) => Object.hasOwn(TRANSITIONS, status) && TRANSITIONS[status as AppointmentStatus].length > 0;

/**
 * Why a notice is no longer true, or null: its appointment is gone, cancelled or finished
 * (`not_active`; a cancellation notice instead needs it cancelled) or moved since the notice was
 * made (`moved`), or its control is gone, already renewed, or expired (the renewal scan stores a
 * package `expired` and dismisses its pending request in one transaction, so a request that can no
 * longer be acted on is not announced). One rule for every channel, so e-mail and in-app skip the
 * same notices with the same reasons. Its own module, free of queue imports, because the socket
 * profile (no Redis) applies it too.
 */
export function staleReason(n: NoticeSubject): string | null {
  if (n.kind === 'renewal') {
    if (!n.control) return 'control_missing';
    if (n.control.status === 'renewed') return 'already_renewed';
    return n.control.status === 'expired' ? 'control_expired' : null;
  }
  if (!n.appointment) return 'appointment_missing';
  if (n.kind === 'cancellation') return n.appointment.status === 'cancelled' ? null : 'not_cancelled';
  if (!isActive(n.appointment.status)) return 'not_active';
  if (n.startsAt && n.appointment.startsAt.getTime() !== n.startsAt.getTime()) return 'moved';
  return null;
}
