import { RuleViolationError } from '../../platform/errors/app-error';
import type { AppointmentStatus } from './schemas';

/**
 * Where each status may go. Every status change (the API, the no-show sweep) checks this one table
 * (a reschedule, confirmed back to scheduled, has its own rule below), and notices read it to tell an appointment that can still change from one that
 * is over; completed, no_show and cancelled are final, so an outcome is never rewritten.
 */
export const TRANSITIONS: Record<AppointmentStatus, readonly AppointmentStatus[]> = {
  scheduled: ['confirmed', 'cancelled', 'completed', 'no_show'],
  confirmed: ['cancelled', 'completed', 'no_show'],
  completed: [],
  no_show: [],
  cancelled: [],
};

/** Takes any stored string, so a status the table does not know is refused rather than thrown on. */
export function canTransition(from: string, to: AppointmentStatus): boolean {
  return Object.hasOwn(TRANSITIONS, from) && TRANSITIONS[from as AppointmentStatus].includes(to);
}

/** Throws 422 `invalid_transition` naming both states, so the caller can tell what it tried from what it found. */
export function assertTransition(from: string, to: AppointmentStatus): void {
  if (!canTransition(from, to)) {
    throw new RuleViolationError('invalid_transition', `An appointment that is ${from} cannot become ${to}`, { from, to });
  }
}

/**
 * Throws 422 `invalid_transition` for an appointment that is over: only a scheduled or confirmed
 * one still has a time worth moving, and a move makes it scheduled again.
 */
export function assertReschedulable(from: string): void {
  if (from !== 'scheduled' && from !== 'confirmed') {
    throw new RuleViolationError('invalid_transition', `An appointment that is ${from} cannot be rescheduled`, { from, to: 'scheduled' });
  }
}
