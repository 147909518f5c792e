import { inTransaction, type Tx } from '../../platform/db/transaction';
import { NotFoundError } from '../../platform/errors/app-error';
import { toAppointmentDto } from '../appointments/dto';
import { auditEventsOfPatient } from '../audit/events';
import { recordReads } from '../audit/reads';
import { consentHistory } from '../consents/store';
import { PATIENT, toView } from '../patients/view';
import { toControlDto } from '../session-packages/dto';

/**
 * Where each table holding data about a patient goes in the export (LGPD art. 18 II and V: access
 * and portability). A test walks the database and fails on a table that references a patient, an
 * appointment or a session package and is in neither this list nor {@link EXPORT_EXCLUDED}.
 */
export const EXPORT_COVERAGE = {
  patients: 'patient',
  patient_consents: 'consents',
  appointments: 'appointments',
  appointment_history: 'appointments[].history',
  appointment_controls: 'sessionPackages',
  renewal_requests: 'sessionPackages[].renewalRequest',
  notifications: 'notifications',
  webhook_deliveries: 'webhookDeliveries',
  audit_events: 'auditEvents',
} as const;

/** Tables left out on purpose, and why. */
export const EXPORT_EXCLUDED: Record<string, string> = {
  outbox_events: "the change feed behind webhooks and notices: ids only, kept days; the same changes are in appointments' history and the audit trail",
  webhook_attempts: "each HTTP try of a delivery: the receiver's status and response excerpt, about the clinic's system rather than the patient",
  idempotency_keys: 'replay copies of API answers, kept a day, erased on anonymisation: the records they copy are exported themselves',
};

/**
 * Everything held about one patient, as one JSON document: the record, consents, appointments with
 * their history, session packages with their renewal requests, notices sent or skipped, webhook
 * deliveries that carried the patient's id, and the audit trail of their data. Read in one
 * REPEATABLE READ transaction, so every section is of the same moment; the export itself is
 * recorded in the audit trail. Sealed fields come back opened (the Prisma client's encryption layer).
 */
export async function exportPatient(clinicId: string, patientId: string) {
  const document = await inTransaction((tx) => readAll(tx, clinicId, patientId), { isolationLevel: 'RepeatableRead' });
  await recordReads(clinicId, 'export', [{ resourceType: 'patient', resourceId: patientId, patientId }]);
  return document;
}

async function readAll(tx: Tx, clinicId: string, patientId: string) {
  const patient = await tx.patient.findFirst({ where: { id: patientId, clinicId }, select: PATIENT });
  if (!patient) throw new NotFoundError('Patient not found');
  const appointments = await tx.appointment.findMany({
    where: { clinicId, patientId },
    include: { history: { orderBy: { createdAt: 'asc' } } },
    orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
  });
  const packages = await tx.appointmentControl.findMany({
    where: { clinicId, patientId },
    include: { renewalRequest: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  const notifications = await tx.notification.findMany({
    where: { clinicId, patientId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, appointmentId: true, controlId: true, kind: true, channel: true, status: true, skipReason: true, startsAt: true, attempts: true, createdAt: true, sentAt: true },
  });
  const deliveries = await tx.$queryRaw<{ id: string; endpoint_id: string; url: string; event_type: string; status: string; attempts: number; created_at: Date; delivered_at: Date | null }[]>`
    SELECT d.id::text, d.endpoint_id::text, e.url, d.event_type, d.status, d.attempts, d.created_at, d.delivered_at
      FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
     WHERE e.clinic_id = ${clinicId}::uuid AND d.payload->'data'->>'patientId' = ${patientId}
     ORDER BY d.created_at, d.id`;
  return {
    exportedAt: new Date().toISOString(),
    patient: toView(patient),
    consents: await consentHistory(tx, patientId),
    appointments: appointments.map((a) => toAppointmentDto(a, a.history)),
    sessionPackages: packages.map((p) => ({
      ...toControlDto(p),
      renewalRequest: p.renewalRequest && {
        id: p.renewalRequest.id,
        status: p.renewalRequest.status,
        reason: p.renewalRequest.reason,
        createdAt: p.renewalRequest.createdAt.toISOString(),
        resolvedAt: p.renewalRequest.resolvedAt?.toISOString() ?? null,
      },
    })),
    notifications,
    webhookDeliveries: deliveries.map((d) => ({
      id: d.id,
      endpointId: d.endpoint_id,
      url: d.url,
      eventType: d.event_type,
      status: d.status,
      attempts: d.attempts,
      createdAt: d.created_at.toISOString(),
      deliveredAt: d.delivered_at?.toISOString() ?? null,
    })),
    auditEvents: await auditEventsOfPatient(tx, clinicId, patientId),
  };
}

/** The export's shape, for the OpenAPI document and its test. */
export type PatientExport = Awaited<ReturnType<typeof readAll>>;

