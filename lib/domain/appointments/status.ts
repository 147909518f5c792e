import { releaseSession } from '../session-packages/sessions';
import type { Appointment } from '../../platform/db/generated/client';
import { inTransaction, type Tx } from '../../platform/db/transaction';
import { recordEvent, type DomainEventType } from '../events/outbox';
import { afterCommit, eventPayload, lockAppointment } from './changes';
import { toAppointmentDto, type AppointmentDto, type ClinicScope } from './dto';
import type { AppointmentStatus } from './schemas';
import { assertTransition } from './transitions';

const ACTIONS = {
  confirmed: { action: 'confirmed', event: 'appointment.confirmed' },
  cancelled: { action: 'cancelled', event: 'appointment.cancelled' },
  completed: { action: 'completed', event: 'appointment.completed' },
  no_show: { action: 'no_show', event: 'appointment.no_show' },
} satisfies Record<Exclude<AppointmentStatus, 'scheduled'>, { action: string; event: DomainEventType }>;

/**
 * Changes an appointment's status along the state machine (./transitions.ts); a cancellation
 * records its reason and gives the control's session back, in the same transaction.
 */
export async function transitionAppointment(
  scope: ClinicScope,
  id: string,
  to: keyof typeof ACTIONS,
  reason?: string,
): Promise<AppointmentDto> {
  const result = await inTransaction((tx) => applyTransition(tx, scope, id, to, reason));
  await afterCommit(result.appointment.professionalId, result.eventIds);
  return toAppointmentDto(result.appointment);
}

/**
 * The transition inside the caller's transaction (row lock, rule, history, events), for work that
 * changes several appointments at once with other data (a patient's anonymisation). The caller runs
 * `afterCommit` with the returned event ids once its transaction committed.
 */
export async function applyTransition(
  tx: Tx,
  scope: ClinicScope,
  id: string,
  to: keyof typeof ACTIONS,
  reason?: string,
): Promise<{ appointment: Appointment; eventIds: string[] }> {
  const current = await lockAppointment(tx, scope, id);
  assertTransition(current.status, to);
  const appointment = await tx.appointment.update({
    where: { id },
    data: { status: to, ...(to === 'cancelled' && { cancelReason: reason ?? null }) },
  });
  const eventIds: string[] = [];
  await tx.appointmentHistory.create({
    data: { appointmentId: id, action: ACTIONS[to].action, fromStatus: current.status, toStatus: to, reason: reason ?? null },
  });
  eventIds.push(await recordEvent(tx, { clinicId: scope.clinicId, type: ACTIONS[to].event, aggregateId: id, payload: eventPayload(appointment) }));
  if (to === 'cancelled' && current.controlId) {
    eventIds.push(...(await releaseSession(tx, scope.clinicId, current.controlId, id)));
  }
  return { appointment, eventIds };
}
