import { recordReads, type AuditResource, type ReadRecord } from '../../domain/audit/reads';
import type { HttpResult } from '../response';

/** Which resource a replayed answer shows, by the request's path; the patient id of a sub-resource is in the path. */
const RESOURCES: { path: RegExp; resource: AuditResource }[] = [
  { path: /^\/v1\/patients\/([0-9a-f-]{36})\/consents$/, resource: 'consent' },
  { path: /^\/v1\/patients(?:\/([0-9a-f-]{36})(?:\/[a-z]+)?)?$/, resource: 'patient' },
  { path: /^\/v1\/appointments(?:\/[0-9a-f-]{36}\/[a-z-]+)?$/, resource: 'appointment' },
  { path: /^\/v1\/controls(?:\/[0-9a-f-]{36}\/[a-z-]+)?$/, resource: 'session_package' },
];

/** What a successful replayed body discloses, or null when it names no record of a patient. */
export function replayedRecord(path: string, result: HttpResult): ReadRecord | null {
  if (result.statusCode >= 300 || !result.body) return null;
  const route = RESOURCES.map((r) => ({ ...r, match: r.path.exec(path) })).find((r) => r.match);
  if (!route) return null;
  let body: { id?: unknown; patientId?: unknown };
  try {
    body = JSON.parse(result.body) as typeof body;
  } catch {
    return null;
  }
  if (typeof body?.id !== 'string') return null;
  const patientId = route.resource === 'patient' ? body.id : (route.match![1] ?? (typeof body.patientId === 'string' ? body.patientId : null));
  return { resourceType: route.resource, resourceId: body.id, patientId };
}

/**
 * A replay hands out a stored answer again, patient data included, without running the route: it
 * is a read of that record by the key replaying it, and is recorded as one.
 */
export async function auditReplay(clinicId: string, path: string, result: HttpResult): Promise<void> {
  const record = replayedRecord(path, result);
  if (record) await recordReads(clinicId, 'read', [record]);
}
