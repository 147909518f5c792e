import { getDb, type Db } from '../../platform/db/client';
import { encodeAuditCursor, type ListAuditEventsQuery } from './schemas';

/** One audit event as the API and the export show it. */
export interface AuditEventView {
  id: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  resourceType: string;
  resourceId: string;
  patientId: string | null;
  requestId: string | null;
}

type Row = Omit<AuditEventView, 'id'> & { id: bigint };

const toView = (r: Row): AuditEventView => ({ ...r, id: r.id.toString() });

const SELECT = {
  id: true,
  at: true,
  actorType: true,
  actorId: true,
  action: true,
  resourceType: true,
  resourceId: true,
  patientId: true,
  requestId: true,
} as const;

/**
 * "Who saw or changed this patient's data": the clinic's audit events, oldest first, filtered by
 * patient and time, a page at a time (keyset on (at, id), served by the table's indexes).
 */
export async function listAuditEvents(clinicId: string, q: ListAuditEventsQuery): Promise<{ data: AuditEventView[]; nextCursor: string | null }> {
  const db = await getDb();
  const at = { ...(q.from && { gte: new Date(q.from) }), ...(q.to && { lt: new Date(q.to) }) };
  const rows = await db.auditEvent.findMany({
    where: {
      clinicId,
      ...(q.patientId && { patientId: q.patientId }),
      ...(Object.keys(at).length > 0 && { at }),
      ...(q.cursor && { OR: [{ at: { gt: q.cursor.at } }, { at: q.cursor.at, id: { gt: q.cursor.id } }] }),
    },
    orderBy: [{ at: 'asc' }, { id: 'asc' }],
    take: q.limit + 1,
    select: SELECT,
  });
  const more = rows.length > q.limit;
  const kept = more ? rows.slice(0, q.limit) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(toView), nextCursor: more && last ? encodeAuditCursor(last) : null };
}

/** Every audit event about one patient, oldest first: the export's last section. */
export async function auditEventsOfPatient(db: Pick<Db, 'auditEvent'>, clinicId: string, patientId: string) {
  const rows = await db.auditEvent.findMany({ where: { clinicId, patientId }, orderBy: [{ at: 'asc' }, { id: 'asc' }], select: SELECT });
  return rows.map(toView);
}
