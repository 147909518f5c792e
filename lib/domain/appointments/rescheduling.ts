import { assertBookable } from '../availability/bookable';
import { inTransaction } from '../../platform/db/transaction';
import { RuleViolationError } from '../../platform/errors/app-error';
import { recordEvent } from '../events/outbox';
import { afterCommit, eventPayload, lockAppointment } from './changes';
import { toAppointmentDto, type AppointmentDto, type ClinicScope } from './dto';
import { refusingOverlap } from './overlap';
import type { RescheduleInput } from './schemas';
import { addMinutes, assertFuture, blockedRange, minutesBetween, parseInstant } from './timing';
import { assertReschedulable } from './transitions';

/**
 * Moves an appointment: same checks as a booking, 409 on overlap, history keeps the previous
 * times. A confirmed appointment goes back to scheduled (the new time is not confirmed yet).
 */
export async function rescheduleAppointment(scope: ClinicScope, id: string, input: RescheduleInput): Promise<AppointmentDto> {
  const startsAt = parseInstant(input.startsAt);
  assertFuture(startsAt);
  const result = await refusingOverlap(() =>
    inTransaction(async (tx) => {
      const current = await lockAppointment(tx, scope, id);
      assertReschedulable(current.status);
      const pro = await tx.professional.findUniqueOrThrow({ where: { id: current.professionalId } });
      const endsAt = addMinutes(startsAt, input.durationMinutes ?? minutesBetween(current.startsAt, current.endsAt));
      await assertBookable(tx, { professionalId: pro.id, zone: scope.timeZone, startsAt, endsAt });
      if (current.controlId) {
        const control = await tx.appointmentControl.findUnique({ where: { id: current.controlId } });
        if (control && control.validUntil < startsAt) {
          throw new RuleViolationError('control_expired', 'The control expires before the new time', {
            controlId: control.id,
            validUntil: control.validUntil.toISOString(),
          });
        }
      }
      const appointment = await tx.appointment.update({
        where: { id },
        data: { startsAt, endsAt, ...blockedRange(startsAt, endsAt, pro), status: 'scheduled' },
      });
      await tx.appointmentHistory.create({
        data: {
          appointmentId: id,
          action: 'rescheduled',
          fromStatus: current.status,
          toStatus: appointment.status,
          previousStartsAt: current.startsAt,
          previousEndsAt: current.endsAt,
        },
      });
      const eventId = await recordEvent(tx, {
        clinicId: scope.clinicId,
        type: 'appointment.rescheduled',
        aggregateId: id,
        payload: eventPayload(appointment, { previousStartsAt: current.startsAt.toISOString() }),
      });
      return { appointment, eventIds: [eventId] };
    }),
  );
  await afterCommit(result.appointment.professionalId, result.eventIds);
  return toAppointmentDto(result.appointment);
}
