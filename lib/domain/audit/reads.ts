import { currentActor } from '../../platform/db/actor';
import { getDb } from '../../platform/db/client';

/** What the audit trail records reads of: the patient's own data and the records about them. */
export type AuditResource = 'patient' | 'appointment' | 'session_package' | 'consent';

/** How the data was read: one record, a page of a list, or the patient's whole export. */
export type ReadAction = 'read' | 'list' | 'export';

/** One record read, and whose data it holds. */
export interface ReadRecord {
  resourceType: AuditResource;
  resourceId: string;
  patientId: string | null;
}

/** Where a single read finds its patient: the table and the column (constants, never input). */
const SUBJECT: Record<AuditResource, { table: string; patient: string }> = {
  patient: { table: 'patients', patient: 'id' },
  consent: { table: 'patients', patient: 'id' },
  appointment: { table: 'appointments', patient: 'patient_id' },
  session_package: { table: 'appointment_controls', patient: 'patient_id' },
};

const actorParams = () => {
  const a = currentActor();
  return [a.type, a.id?.slice(0, 64) ?? null, a.requestId?.slice(0, 128) ?? null] as const;
};

/**
 * Records reads that already happened (a list's page, an export): one INSERT for all of them,
 * awaited, so an answer never leaves without its record. Changes are recorded by the database
 * itself (the migration's triggers); reads cannot be, so the services call this.
 */
export async function recordReads(clinicId: string, action: ReadAction, records: ReadRecord[]): Promise<void> {
  if (records.length === 0) return;
  const db = await getDb();
  const [type, id, requestId] = actorParams();
  await db.$executeRaw`
    INSERT INTO audit_events (clinic_id, actor_type, actor_id, action, resource_type, resource_id, patient_id, request_id)
    SELECT ${clinicId}::uuid, ${type}, ${id}, ${action}, r.type, r.id, r.patient::uuid, ${requestId}
      FROM unnest(${records.map((r) => r.resourceType)}::text[], ${records.map((r) => r.resourceId)}::text[],
                  ${records.map((r) => r.patientId)}::text[]) AS r(type, id, patient)`;
}

/**
 * One record read by id, recorded beside the read rather than after it: the INSERT ... SELECT runs
 * at the same time on another pooled connection and takes the patient from the row itself, so the
 * answer waits for no extra round trip, and an id of another clinic (a 404) records nothing.
 */
export async function auditedRead<T>(clinicId: string, resource: AuditResource, id: string, read: () => Promise<T>): Promise<T> {
  const [result] = await Promise.all([read(), recordReadById(clinicId, resource, id)]);
  return result;
}

async function recordReadById(clinicId: string, resource: AuditResource, id: string): Promise<void> {
  const db = await getDb();
  const { table, patient } = SUBJECT[resource];
  const [type, actorId, requestId] = actorParams();
  await db.$executeRawUnsafe(
    `INSERT INTO audit_events (clinic_id, actor_type, actor_id, action, resource_type, resource_id, patient_id, request_id)
     SELECT clinic_id, $1, $2, 'read', $3, id::text, ${patient}, $5 FROM ${table} WHERE id = $4::uuid AND clinic_id = $6::uuid`,
    type,
    actorId,
    resource,
    id,
    requestId,
    clinicId,
  );
}
