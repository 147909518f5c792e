import { randomUUID } from 'node:crypto';
import { assertBookable } from '../availability/bookable';
import { consumeSession } from '../session-packages/sessions';
import { inTransaction } from '../../platform/db/transaction';
import { NotFoundError, RuleViolationError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { recordEvent } from '../events/outbox';
import { afterCommit, eventPayload } from './changes';
import { toAppointmentDto, type AppointmentDto, type ClinicScope } from './dto';
import { refusingOverlap } from './overlap';
import type { CreateAppointmentInput } from './schemas';
import { addMinutes, assertFuture, blockedRange, parseInstant } from './timing';

/**
 * Books an appointment in one transaction: ownership checks, working hours and time off, the
 * insert (PostgreSQL's exclusion constraint refuses an overlap: 409), the control's session,
 * history and outbox events. After commit: slots cache, then event publication (reminders follow
 * from the event in the worker).
 */
export async function createAppointment(scope: ClinicScope, input: CreateAppointmentInput): Promise<AppointmentDto> {
  const startsAt = parseInstant(input.startsAt);
  assertFuture(startsAt);
  const id = randomUUID();
  const result = await refusingOverlap(() =>
    inTransaction(async (tx) => {
      const pro = await tx.professional.findFirst({ where: { id: input.professionalId, clinicId: scope.clinicId } });
      if (!pro) throw new NotFoundError('Professional not found');
      // FOR SHARE: a booking waits for an anonymisation or block of the patient in flight, then sees it.
      const [patient] = await tx.$queryRaw<{ id: string; blockedAt: Date | null; anonymizedAt: Date | null }[]>`
        SELECT id::text, blocked_at AS "blockedAt", anonymized_at AS "anonymizedAt" FROM patients
        WHERE id = ${input.patientId}::uuid AND clinic_id = ${scope.clinicId}::uuid FOR SHARE`;
      if (!patient) throw new NotFoundError('Patient not found');
      // LGPD: a blocked patient's data is kept but not used; an anonymised one is a placeholder.
      if (patient.anonymizedAt) throw new RuleViolationError('patient_anonymized', 'The patient was anonymised and cannot be booked');
      if (patient.blockedAt) throw new RuleViolationError('patient_blocked', 'The patient is blocked and cannot be booked');
      if (!pro.active) throw new RuleViolationError('professional_inactive', 'The professional is not taking appointments');
      const endsAt = addMinutes(startsAt, input.durationMinutes ?? pro.defaultDurationMinutes);
      await assertBookable(tx, { professionalId: pro.id, zone: scope.timeZone, startsAt, endsAt });

      const eventIds: string[] = [];
      if (input.controlId) {
        eventIds.push(
          ...(await consumeSession(tx, {
            clinicId: scope.clinicId,
            controlId: input.controlId,
            patientId: patient.id,
            professionalId: pro.id,
            professionalSpecialty: pro.specialty,
            startsAt,
            appointmentId: id,
          })),
        );
      }
      const appointment = await tx.appointment.create({
        data: {
          id,
          clinicId: scope.clinicId,
          professionalId: pro.id,
          patientId: patient.id,
          controlId: input.controlId ?? null,
          startsAt,
          endsAt,
          ...blockedRange(startsAt, endsAt, pro),
          notes: input.notes ?? null,
        },
      });
      await tx.appointmentHistory.create({ data: { appointmentId: id, action: 'created', toStatus: appointment.status } });
      eventIds.unshift(
        await recordEvent(tx, { clinicId: scope.clinicId, type: 'appointment.created', aggregateId: id, payload: eventPayload(appointment) }),
      );
      return { appointment, eventIds };
    }),
  );
  logger.info('appointment.created', { appointmentId: id, professionalId: input.professionalId, clinicId: scope.clinicId });
  await afterCommit(result.appointment.professionalId, result.eventIds);
  return toAppointmentDto(result.appointment);
}
