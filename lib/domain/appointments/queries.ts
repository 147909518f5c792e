import { auditedRead, recordReads } from '../audit/reads';
import { getDb } from '../../platform/db/client';
import { NotFoundError } from '../../platform/errors/app-error';
import { keysetAfter, toPage } from '../../platform/pagination/cursor';
import { toAppointmentDto, type AppointmentDto, type ClinicScope } from './dto';
import type { ListAppointmentsInput } from './schemas';
import { parseInstant } from './timing';

/** One appointment with its history, oldest first; another clinic's id is a 404, so ids cannot be probed. */
export async function getAppointment(scope: ClinicScope, id: string): Promise<AppointmentDto> {
  return auditedRead(scope.clinicId, 'appointment', id, async () => {
    const db = await getDb();
    const a = await db.appointment.findFirst({
      where: { id, clinicId: scope.clinicId },
      include: { history: { orderBy: { createdAt: 'asc' } } },
    });
    if (!a) throw new NotFoundError('Appointment not found');
    return toAppointmentDto(a, a.history);
  });
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
  const page = toPage(rows, q.limit, (a) => a.startsAt, (a) => toAppointmentDto(a));
  await recordReads(scope.clinicId, 'list', page.data.map((a) => ({ resourceType: 'appointment', resourceId: a.id, patientId: a.patientId })));
  return page;
}
