import { RuleViolationError } from '../errors/app-error';
import type { AppointmentStatus } from './schemas';

/** Where each status may go; completed, no_show and cancelled are final. */
export const TRANSITIONS: Record<AppointmentStatus, readonly AppointmentStatus[]> = {
  scheduled: ['confirmed', 'cancelled', 'completed', 'no_show'],
  confirmed: ['cancelled', 'completed', 'no_show'],
  completed: [],
  no_show: [],
  cancelled: [],
};

export function canTransition(from: string, to: AppointmentStatus): boolean {
  return (TRANSITIONS[from as AppointmentStatus] ?? []).includes(to);
}

/** Throws 422 `invalid_transition` naming both states. */
export function assertTransition(from: string, to: AppointmentStatus): void {
  if (!canTransition(from, to)) {
    throw new RuleViolationError('invalid_transition', `An appointment that is ${from} cannot become ${to}`, { from, to });
  }
}
