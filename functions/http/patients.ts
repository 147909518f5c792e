import { listAuditEvents } from '../../lib/domain/audit/events';
import { listAuditEventsQuery } from '../../lib/domain/audit/schemas';
import { consentsForPatient, recordConsent } from '../../lib/domain/consents/service';
import { recordConsentBody } from '../../lib/domain/consents/schemas';
import { exportPatient } from '../../lib/domain/data-subject/export';
import { anonymizePatient } from '../../lib/domain/patients/anonymize';
import { blockPatient, unblockPatient } from '../../lib/domain/patients/block';
import { createPatient, deletePatient, getPatient, listPatients, updatePatient } from '../../lib/domain/patients/service';
import { createPatientBody, listPatientsQuery, updatePatientBody } from '../../lib/domain/patients/schemas';
import { json, noContent } from '../../lib/http/response';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { httpRouter } from '../../lib/http/routes/function';
import { idParam } from '../../lib/platform/validation/common';

/** The API key that made the request, as the consent records name it. */
const keyActor = (auth: { apiKeyId: string }) => ({ type: 'api_key' as const, id: auth.apiKeyId });

/** POST /v1/patients */
export const create = clinicRoute('write', { body: createPatientBody }, async ({ auth, body }) => json(201, await createPatient(auth.clinicId, body, keyActor(auth))));

/** GET /v1/patients?limit=&cursor=&q=&email=: `{ data, nextCursor }`, oldest first; q matches the name, any case; email the address. Blocked and anonymised patients are left out. */
export const list = clinicRoute('read', { query: listPatientsQuery }, async ({ auth, query }) => json(200, await listPatients(auth.clinicId, query)));

/** GET /v1/patients/{id}: with the current consent per channel; blocked patients too. */
export const get = clinicRoute('read', { path: idParam }, async ({ auth, path }) => json(200, await getPatient(auth.clinicId, path.id)));

/** PATCH /v1/patients/{id} */
export const update = clinicRoute('write', { path: idParam, body: updatePatientBody }, async ({ auth, path, body }) =>
  json(200, await updatePatient(auth.clinicId, path.id, body, keyActor(auth))),
);

/** DELETE /v1/patients/{id}: 409 while the patient has appointments (the message points to anonymize and block). */
export const remove = clinicRoute('write', { path: idParam }, async ({ auth, path }) => {
  await deletePatient(auth.clinicId, path.id);
  return noContent();
});

/** GET /v1/patients/{id}/consents: `{ current, history }`. */
export const listConsents = clinicRoute('read', { path: idParam }, async ({ auth, path }) => json(200, await consentsForPatient(auth.clinicId, path.id)));

/** POST /v1/patients/{id}/consents: grant or revoke one channel; 422 for legitimate interest. */
export const addConsent = clinicRoute('write', { path: idParam, body: recordConsentBody }, async ({ auth, path, body }) =>
  json(201, await recordConsent(auth.clinicId, path.id, body, keyActor(auth))),
);

/** POST /v1/patients/{id}/anonymize: erase personal data, keep the placeholder; idempotent (200). */
export const anonymize = clinicRoute('admin', { path: idParam }, async ({ auth, path }) =>
  json(200, await anonymizePatient({ clinicId: auth.clinicId, timeZone: auth.timeZone }, path.id, keyActor(auth))),
);

/** POST /v1/patients/{id}/block: keep the data, stop using it (lists, notices, bookings). */
export const block = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => json(200, await blockPatient(auth.clinicId, path.id)));

/** POST /v1/patients/{id}/unblock */
export const unblock = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => json(200, await unblockPatient(auth.clinicId, path.id)));

/** GET /v1/patients/{id}/export: everything held about the patient, of one moment (LGPD art. 18). */
export const exportData = clinicRoute('admin', { path: idParam }, async ({ auth, path }) => json(200, await exportPatient(auth.clinicId, path.id)));

/** GET /v1/audit-events?patientId=&from=&to=: who read or changed patient data, oldest first. */
export const auditEvents = clinicRoute('admin', { query: listAuditEventsQuery }, async ({ auth, query }) => json(200, await listAuditEvents(auth.clinicId, query)));

/** The patients function: every route of this area, picked by API Gateway route key. */
export const handler = httpRouter({
  'POST /v1/patients': create,
  'GET /v1/patients': list,
  'GET /v1/patients/{id}': get,
  'PATCH /v1/patients/{id}': update,
  'DELETE /v1/patients/{id}': remove,
  'GET /v1/patients/{id}/consents': listConsents,
  'POST /v1/patients/{id}/consents': addConsent,
  'POST /v1/patients/{id}/anonymize': anonymize,
  'POST /v1/patients/{id}/block': block,
  'POST /v1/patients/{id}/unblock': unblock,
  'GET /v1/patients/{id}/export': exportData,
  'GET /v1/audit-events': auditEvents,
});
