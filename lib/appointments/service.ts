import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { assertBookable } from '../availability/bookable';
import { invalidateSlots } from '../availability/cache';
import { releaseSession, consumeSession } from '../controls/service';
import { getDb } from '../db/client';
import { isExclusionViolation } from '../db/errors';
import { inTransaction } from '../db/transaction';
import type { Appointment, AppointmentHistory } from '../db/generated/client';
import { ConflictError, NotFoundError, RuleViolationError } from '../errors/app-error';
import { logger } from '../observability/logger';
import { keysetAfter, toPage } from '../pagination/cursor';
import { publishEvents, recordEvent, type DomainEventType, type Tx } from '../outbox/outbox';
import type { AppointmentStatus, CreateAppointmentInput, ListAppointmentsInput, RescheduleInput } from './schemas';
import { assertTransition } from './transitions';

/** The caller's clinic, as the HTTP layer resolved it from the API key. */
export interface ClinicScope {
  clinicId: string;
  timeZone: string;
}

export function toAppointmentDto(a: Appointment, history?: AppointmentHistory[]) {
  return {
    id: a.id,
    professionalId: a.professionalId,
    patientId: a.patientId,
    controlId: a.controlId,
    startsAt: a.startsAt.toISOString(),
    endsAt: a.endsAt.toISOString(),
    durationMinutes: Math.round((a.endsAt.getTime() - a.startsAt.getTime()) / 60_000),
    blockStartsAt: a.blockStartsAt.toISOString(),
    blockEndsAt: a.blockEndsAt.toISOString(),
    status: a.status,
    cancelReason: a.cancelReason,
    notes: a.notes,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    ...(history && {
      history: history.map((h) => ({
        action: h.action,
        fromStatus: h.fromStatus,
        toStatus: h.toStatus,
        previousStartsAt: h.previousStartsAt?.toISOString() ?? null,
        previousEndsAt: h.previousEndsAt?.toISOString() ?? null,
        reason: h.reason,
        at: h.createdAt.toISOString(),
      })),
    }),
  };
}
export type AppointmentDto = ReturnType<typeof toAppointmentDto>;

/** True when PostgreSQL refused the row with the no-double-booking exclusion constraint. */
export const isOverlapViolation = (err: unknown) => isExclusionViolation(err, 'appointments_no_overlap');

const slotTaken = (err: unknown) =>
  new ConflictError(
    'The professional already has an appointment overlapping that time (buffers included)',
    { reason: 'slot_taken' },
    { cause: err },
  );

function assertFuture(startsAt: Date): void {
  if (startsAt.getTime() <= Date.now()) {
    throw new RuleViolationError('starts_in_past', 'The appointment must start in the future');
  }
}

const addMinutes = (d: Date, m: number) => new Date(d.getTime() + m * 60_000);
const parseInstant = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toJSDate();

/**
 * Work to do once the transaction committed; never fails the request. The professional's cached
 * slot lists are dropped first (or the professional marked stale, in an outage), so a receiver of
 * the events never reads a list without the change; reminders, webhooks and notices follow from
 * the events in the worker.
 */
async function afterCommit(professionalId: string, eventIds: string[]): Promise<void> {
  await invalidateSlots(professionalId);
  await publishEvents(eventIds);
}

function eventPayload(a: Appointment, extra: Record<string, string | null> = {}) {
  return {
    appointmentId: a.id,
    professionalId: a.professionalId,
    patientId: a.patientId,
    controlId: a.controlId,
    startsAt: a.startsAt.toISOString(),
    endsAt: a.endsAt.toISOString(),
    status: a.status,
    ...extra,
  };
}

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
  let result: { appointment: Appointment; eventIds: string[] };
  try {
    result = await inTransaction(async (tx) => {
      const pro = await tx.professional.findFirst({ where: { id: input.professionalId, clinicId: scope.clinicId } });
      if (!pro) throw new NotFoundError('Professional not found');
      const patient = await tx.patient.findFirst({ where: { id: input.patientId, clinicId: scope.clinicId }, select: { id: true } });
      if (!patient) throw new NotFoundError('Patient not found');
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
          blockStartsAt: addMinutes(startsAt, -pro.bufferBeforeMinutes),
          blockEndsAt: addMinutes(endsAt, pro.bufferAfterMinutes),
          notes: input.notes ?? null,
        },
      });
      await tx.appointmentHistory.create({ data: { appointmentId: id, action: 'created', toStatus: appointment.status } });
      eventIds.unshift(
        await recordEvent(tx, { clinicId: scope.clinicId, type: 'appointment.created', aggregateId: id, payload: eventPayload(appointment) }),
      );
      return { appointment, eventIds };
    });
  } catch (err) {
    if (isOverlapViolation(err)) throw slotTaken(err);
    throw err;
  }
  logger.info('appointment.created', { appointmentId: id, professionalId: input.professionalId, clinicId: scope.clinicId });
  await afterCommit(result.appointment.professionalId, result.eventIds);
  return toAppointmentDto(result.appointment);
}

export async function getAppointment(scope: ClinicScope, id: string): Promise<AppointmentDto> {
  const db = await getDb();
  const a = await db.appointment.findFirst({
    where: { id, clinicId: scope.clinicId },
    include: { history: { orderBy: { createdAt: 'asc' } } },
  });
  if (!a) throw new NotFoundError('Appointment not found');
  return toAppointmentDto(a, a.history);
}

/** Keyset pagination by (startsAt, id): stable under inserts, no OFFSET scans. */
export async function listAppointments(scope: ClinicScope, q: ListAppointmentsInput) {
  const db = await getDb();
  const startsAt = {
    ...(q.from && { gte: parseInstant(q.from) }),
    ...(q.to && { lt: parseInstant(q.to) }),
  };
  const rows = await db.appointment.findMany({
    where: {
      clinicId: scope.clinicId,
      ...(q.professionalId && { professionalId: q.professionalId }),
      ...(q.patientId && { patientId: q.patientId }),
      ...(q.status && { status: q.status }),
      ...(Object.keys(startsAt).length > 0 && { startsAt }),
      ...keysetAfter('startsAt', q.cursor),
    },
    orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
    take: q.limit + 1,
  });
  return toPage(rows, q.limit, (a) => a.startsAt, (a) => toAppointmentDto(a));
}

/** Locks the appointment row for this transaction (serializes concurrent transitions), scoped to the clinic. */
async function lockAppointment(tx: Tx, scope: ClinicScope, id: string): Promise<Appointment> {
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM appointments WHERE id = ${id}::uuid AND clinic_id = ${scope.clinicId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw new NotFoundError('Appointment not found');
  return tx.appointment.findUniqueOrThrow({ where: { id } });
}

/**
 * Moves an appointment: same checks as a booking, 409 on overlap, history keeps the previous
 * times. A confirmed appointment goes back to scheduled (the new time is not confirmed yet).
 */
export async function rescheduleAppointment(scope: ClinicScope, id: string, input: RescheduleInput): Promise<AppointmentDto> {
  const startsAt = parseInstant(input.startsAt);
  assertFuture(startsAt);
  let result: { appointment: Appointment; eventIds: string[] };
  try {
    result = await inTransaction(async (tx) => {
      const current = await lockAppointment(tx, scope, id);
      if (current.status !== 'scheduled' && current.status !== 'confirmed') {
        throw new RuleViolationError('invalid_transition', `An appointment that is ${current.status} cannot be rescheduled`, {
          from: current.status,
          to: 'scheduled',
        });
      }
      const pro = await tx.professional.findUniqueOrThrow({ where: { id: current.professionalId } });
      const minutes = input.durationMinutes ?? Math.round((current.endsAt.getTime() - current.startsAt.getTime()) / 60_000);
      const endsAt = addMinutes(startsAt, minutes);
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
        data: {
          startsAt,
          endsAt,
          blockStartsAt: addMinutes(startsAt, -pro.bufferBeforeMinutes),
          blockEndsAt: addMinutes(endsAt, pro.bufferAfterMinutes),
          status: 'scheduled',
        },
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
    });
  } catch (err) {
    if (isOverlapViolation(err)) throw slotTaken(err);
    throw err;
  }
  await afterCommit(result.appointment.professionalId, result.eventIds);
  return toAppointmentDto(result.appointment);
}

const ACTIONS = {
  confirmed: { action: 'confirmed', event: 'appointment.confirmed' },
  cancelled: { action: 'cancelled', event: 'appointment.cancelled' },
  completed: { action: 'completed', event: 'appointment.completed' },
  no_show: { action: 'no_show', event: 'appointment.no_show' },
} satisfies Record<Exclude<AppointmentStatus, 'scheduled'>, { action: string; event: DomainEventType }>;

/**
 * Changes an appointment's status along the state machine (lib/appointments/transitions.ts); a
 * cancellation records its reason and gives the control's session back, in the same transaction.
 */
export async function transitionAppointment(
  scope: ClinicScope,
  id: string,
  to: keyof typeof ACTIONS,
  reason?: string,
): Promise<AppointmentDto> {
  const result = await inTransaction(async (tx) => {
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
    eventIds.push(
      await recordEvent(tx, { clinicId: scope.clinicId, type: ACTIONS[to].event, aggregateId: id, payload: eventPayload(appointment) }),
    );
    if (to === 'cancelled' && current.controlId) {
      eventIds.push(...(await releaseSession(tx, scope.clinicId, current.controlId, id)));
    }
    return { appointment, eventIds };
  });
  await afterCommit(result.appointment.professionalId, result.eventIds);
  return toAppointmentDto(result.appointment);
}
