import { invalidateSlots } from '../availability/cache';
import type { Appointment } from '../../platform/db/generated/client';
import type { Tx } from '../../platform/db/transaction';
import { NotFoundError } from '../../platform/errors/app-error';
import { publishEvents } from '../events/outbox';
import type { ClinicScope } from './dto';

/** Locks the appointment row for this transaction (serializes concurrent changes), scoped to the clinic. */
export async function lockAppointment(tx: Tx, scope: ClinicScope, id: string): Promise<Appointment> {
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM appointments WHERE id = ${id}::uuid AND clinic_id = ${scope.clinicId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw new NotFoundError('Appointment not found');
  return tx.appointment.findUniqueOrThrow({ where: { id } });
}

/** One payload shape for every appointment event, so receivers read each kind the same way. */
export function eventPayload(a: Appointment, extra: Record<string, string | null> = {}) {
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
 * Work to do once the transaction committed; never fails the request. The professional's cached
 * slot lists are dropped first (or the professional marked stale, in an outage), so a receiver of
 * the events never reads a list without the change; reminders, webhooks and notices follow from
 * the events in the worker.
 */
export async function afterCommit(professionalId: string, eventIds: string[]): Promise<void> {
  await invalidateSlots(professionalId);
  await publishEvents(eventIds);
}
