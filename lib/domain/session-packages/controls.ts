import { DateTime } from 'luxon';
import { getDb } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { NotFoundError, ValidationError } from '../../platform/errors/app-error';
import { auditedRead, recordReads } from '../audit/reads';
import { keysetAfter, toPage } from '../../platform/pagination/cursor';
import { publishEvents, recordEvent } from '../events/outbox';
import { toControlDto } from './dto';
import type { CreateControlInput, ListControlsInput } from './schemas';

/**
 * `validUntil` as an instant. A desk writes a bare date meaning "through that day" where the
 * clinic is, so it ends at the end of that day in the clinic's time zone, not at UTC midnight.
 */
export function resolveValidUntil(value: string, zone: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return DateTime.fromISO(value, { zone }).endOf('day').toJSDate();
  return DateTime.fromISO(value, { setZone: true }).toJSDate();
}

/**
 * Creates a package and records `control.created`. An end already past is a 400 on `validUntil`,
 * not a package that could never pay for a session.
 */
export async function createControl(clinicId: string, zone: string, input: CreateControlInput) {
  const validUntil = resolveValidUntil(input.validUntil, zone);
  if (validUntil.getTime() <= Date.now()) {
    throw new ValidationError('Invalid body', [{ field: 'validUntil', problem: 'must be in the future' }]);
  }
  const { control, eventId } = await inTransaction(async (tx) => {
    const patient = await tx.patient.findFirst({ where: { id: input.patientId, clinicId }, select: { id: true } });
    if (!patient) throw new NotFoundError('Patient not found');
    if (input.professionalId) {
      const pro = await tx.professional.findFirst({ where: { id: input.professionalId, clinicId }, select: { id: true } });
      if (!pro) throw new NotFoundError('Professional not found');
    }
    const control = await tx.appointmentControl.create({
      data: {
        clinicId,
        patientId: input.patientId,
        professionalId: input.professionalId ?? null,
        specialty: input.specialty ?? null,
        sessionsTotal: input.sessionsTotal,
        validUntil,
        renewalPolicy: input.renewalPolicy,
      },
    });
    const eventId = await recordEvent(tx, {
      clinicId,
      type: 'control.created',
      aggregateId: control.id,
      payload: { controlId: control.id, patientId: control.patientId, sessionsTotal: control.sessionsTotal },
    });
    return { control, eventId };
  });
  await publishEvents([eventId]);
  return toControlDto(control);
}

/** Another clinic's id is a 404, so ids cannot be probed across clinics. */
export async function getControl(clinicId: string, id: string) {
  return auditedRead(clinicId, 'session_package', id, async () => {
    const db = await getDb();
    const c = await db.appointmentControl.findFirst({ where: { id, clinicId } });
    if (!c) throw new NotFoundError('Control not found');
    return toControlDto(c);
  });
}

/** Keyset pagination by (createdAt, id): stable under inserts, no OFFSET scans. */
export async function listControls(clinicId: string, q: ListControlsInput) {
  const db = await getDb();
  const rows = await db.appointmentControl.findMany({
    where: {
      clinicId,
      ...(q.patientId && { patientId: q.patientId }),
      ...(q.status && { status: q.status }),
      ...keysetAfter('createdAt', q.cursor),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: q.limit + 1,
  });
  const page = toPage(rows, q.limit, (c) => c.createdAt, (c) => toControlDto(c));
  await recordReads(clinicId, 'list', page.data.map((c) => ({ resourceType: 'session_package', resourceId: c.id, patientId: c.patientId })));
  return page;
}
