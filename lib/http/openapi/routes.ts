import { z } from 'zod';
import { slotsQuery } from '../../domain/availability/query';
import { cancelSchema, createAppointmentSchema, listAppointmentsSchema, rescheduleSchema } from '../../domain/appointments/schemas';
import { createCanarySchema } from '../../domain/canary/schemas';
import { createControlSchema, listControlsSchema } from '../../domain/session-packages/schemas';
import { listAuditEventsQuery } from '../../domain/audit/schemas';
import { recordConsentBody } from '../../domain/consents/schemas';
import { patientExportSchema } from '../../domain/data-subject/schemas';
import { createPatientBody, listPatientsQuery, updatePatientBody } from '../../domain/patients/schemas';
import {
  createProfessionalBody,
  createTimeOffBody,
  listProfessionalsQuery,
  updateProfessionalBody,
  workingHoursBody,
} from '../../domain/professionals/schemas';
import { createApiKeySchema, createClinicSchema, updateClinicSchema } from '../../domain/tenancy/schemas';
import { createWebhookSchema, listDeliveriesQuery, replaySchema, updateWebhookSchema } from '../../domain/webhooks/schemas';
import { buildDocument, type RouteDoc } from './document';

const ok = (description: string, schema?: z.ZodType) => ({ description, ...(schema && { schema }) });
const anyObject = z.object({}).passthrough();

/**
 * Every HTTP route, with the schemas that validate it. A test checks this list against the
 * httpApi events in serverless.yml, so a route cannot ship undocumented.
 */
export const ROUTES: RouteDoc[] = [
  { method: 'get', path: '/health', summary: '`{status}` for anyone; with the admin secret as Bearer, dependencies, pool totals and this container\'s warm state', tag: 'operations', auth: 'none', responses: { 200: ok('Healthy or degraded', anyObject), 503: ok('A dependency is down (with the admin secret: listed in `down`)', anyObject) } },
  { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'operations', auth: 'none', responses: { 200: ok('OpenAPI 3.1', anyObject) } },
  { method: 'get', path: '/docs', summary: 'A readable reference page', tag: 'operations', auth: 'none', responses: { 200: ok('HTML') } },
  { method: 'post', path: '/admin/canaries', summary: 'Send a probe through function, queue, worker and database', tag: 'operations', auth: 'admin', body: createCanarySchema, responses: { 202: ok('Enqueued', anyObject) } },
  { method: 'get', path: '/admin/canaries/{id}', summary: 'Whether, where and how a probe was processed', tag: 'operations', auth: 'admin', responses: { 200: ok('The probe', anyObject), 404: ok('Unknown probe') } },
  { method: 'post', path: '/admin/clinics', summary: 'Create a clinic and its first API key (shown once)', tag: 'clinics', auth: 'admin', body: createClinicSchema, responses: { 201: ok('Created', anyObject) } },
  { method: 'get', path: '/v1/clinic', summary: 'The caller\'s clinic', tag: 'clinics', auth: 'apiKey', scope: 'read', responses: { 200: ok('The clinic', anyObject) } },
  { method: 'patch', path: '/v1/clinic', summary: 'Change the clinic\'s settings (name, reminder offsets, automatic no-show, retention periods)', tag: 'clinics', auth: 'apiKey', scope: 'admin', body: updateClinicSchema, responses: { 200: ok('The clinic', anyObject) } },
  { method: 'get', path: '/v1/api-keys', summary: 'The clinic\'s API keys, without secrets', tag: 'clinics', auth: 'apiKey', scope: 'admin', responses: { 200: ok('Keys', anyObject) } },
  { method: 'post', path: '/v1/api-keys', summary: 'Issue another API key with scopes the caller holds (default read, write; its secret is shown once)', tag: 'clinics', auth: 'apiKey', scope: 'admin', body: createApiKeySchema, idempotent: true, responses: { 201: ok('Issued', anyObject), 409: ok('The clinic has API_KEYS_PER_CLINIC_MAX active keys (details.reason api_key_limit)') } },
  { method: 'post', path: '/v1/realtime/tickets', summary: 'A single-use WebSocket ticket for `?ticket=` on the socket URL, valid REALTIME_TICKET_TTL_S (60 s)', tag: 'clinics', auth: 'apiKey', scope: 'read', responses: { 201: ok('The ticket (shown once) and expiresAt', anyObject) } },
  { method: 'delete', path: '/v1/api-keys/{id}', summary: 'Revoke an API key at once (the WebSocket connections it opened are closed too)', tag: 'clinics', auth: 'apiKey', scope: 'admin', responses: { 204: ok('Revoked'), 404: ok('Not this clinic\'s key') } },

  { method: 'post', path: '/v1/professionals', summary: 'Add a professional', tag: 'professionals', auth: 'apiKey', scope: 'write', body: createProfessionalBody, idempotent: true, responses: { 201: ok('Created', anyObject) } },
  { method: 'get', path: '/v1/professionals', summary: 'List professionals (cursor pagination)', tag: 'professionals', auth: 'apiKey', scope: 'read', query: listProfessionalsQuery, responses: { 200: ok('A page: data and nextCursor', anyObject) } },
  { method: 'get', path: '/v1/professionals/{id}', summary: 'One professional', tag: 'professionals', auth: 'apiKey', scope: 'read', responses: { 200: ok('The professional', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'patch', path: '/v1/professionals/{id}', summary: 'Change a professional (duration, buffers, step, active...)', tag: 'professionals', auth: 'apiKey', scope: 'write', body: updateProfessionalBody, responses: { 200: ok('Updated', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'get', path: '/v1/professionals/{id}/working-hours', summary: 'The weekly schedule, local times', tag: 'professionals', auth: 'apiKey', scope: 'read', responses: { 200: ok('Schedule', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'put', path: '/v1/professionals/{id}/working-hours', summary: 'Replace the weekly schedule (several intervals a day)', tag: 'professionals', auth: 'apiKey', scope: 'write', body: workingHoursBody, responses: { 200: ok('Schedule', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'post', path: '/v1/professionals/{id}/time-off', summary: 'Add time off', tag: 'professionals', auth: 'apiKey', scope: 'write', body: createTimeOffBody, idempotent: true, responses: { 201: ok('Created', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'get', path: '/v1/professionals/{id}/time-off', summary: 'List time off', tag: 'professionals', auth: 'apiKey', scope: 'read', responses: { 200: ok('Time off', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'delete', path: '/v1/professionals/{id}/time-off/{timeOffId}', summary: 'Remove time off', tag: 'professionals', auth: 'apiKey', scope: 'write', responses: { 204: ok('Removed'), 404: ok('Not this clinic\'s') } },
  {
    method: 'get',
    path: '/v1/professionals/{id}/slots',
    summary: 'Free slots over a range, in the clinic\'s time zone (working hours, time off, buffers, bookings)',
    tag: 'availability',
    auth: 'apiKey',
    scope: 'read',
    // The validating schema itself; per request it resolves dates in the clinic's zone.
    query: slotsQuery('UTC'),
    responses: { 200: ok('Slots with local and UTC times; X-Cache says hit or miss', anyObject), 404: ok('Not this clinic\'s') },
  },

  { method: 'post', path: '/v1/patients', summary: 'Add a patient', tag: 'patients', auth: 'apiKey', scope: 'write', body: createPatientBody, idempotent: true, responses: { 201: ok('Created', anyObject) } },
  { method: 'get', path: '/v1/patients', summary: 'List patients (cursor pagination, name search, lookup by e-mail)', tag: 'patients', auth: 'apiKey', scope: 'read', query: listPatientsQuery, responses: { 200: ok('A page: data and nextCursor', anyObject) } },
  { method: 'get', path: '/v1/patients/{id}', summary: 'One patient', tag: 'patients', auth: 'apiKey', scope: 'read', responses: { 200: ok('The patient', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'patch', path: '/v1/patients/{id}', summary: 'Change a patient', tag: 'patients', auth: 'apiKey', scope: 'write', body: updatePatientBody, responses: { 200: ok('Updated', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'delete', path: '/v1/patients/{id}', summary: 'Delete a patient without appointments (with appointments: anonymize or block)', tag: 'patients', auth: 'apiKey', scope: 'write', responses: { 204: ok('Deleted'), 404: ok('Not this clinic\'s'), 409: ok('The patient has appointments: anonymize or block instead') } },
  { method: 'get', path: '/v1/patients/{id}/consents', summary: 'Consent per channel (email, in_app, whatsapp): current state and full history', tag: 'patients', auth: 'apiKey', scope: 'read', responses: { 200: ok('current (per channel, null if never recorded) and history (oldest first)', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'post', path: '/v1/patients/{id}/consents', summary: 'Grant or revoke one channel on an LGPD basis (consent, contract, health_protection)', tag: 'patients', auth: 'apiKey', scope: 'write', body: recordConsentBody, idempotent: true, responses: { 201: ok('The record appended', anyObject), 404: ok('Not this clinic\'s'), 422: ok('legitimate_interest for health data, or the patient was anonymised (details.rule)') } },
  { method: 'post', path: '/v1/patients/{id}/anonymize', summary: 'Erase the patient\'s personal data everywhere, cancel future appointments, keep counts; idempotent', tag: 'patients', auth: 'apiKey', scope: 'admin', idempotent: true, responses: { 200: ok('The anonymous placeholder', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'post', path: '/v1/patients/{id}/block', summary: 'Keep the data (legal duty) but leave the patient out of lists, notices and new bookings', tag: 'patients', auth: 'apiKey', scope: 'admin', idempotent: true, responses: { 200: ok('The blocked patient', anyObject), 404: ok('Not this clinic\'s'), 422: ok('The patient was anonymised') } },
  { method: 'post', path: '/v1/patients/{id}/unblock', summary: 'Lift a block', tag: 'patients', auth: 'apiKey', scope: 'admin', idempotent: true, responses: { 200: ok('The patient', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'get', path: '/v1/patients/{id}/export', summary: 'Everything held about the patient, as one JSON document of one moment (LGPD art. 18: access, portability); recorded in the audit trail', tag: 'patients', auth: 'apiKey', scope: 'admin', responses: { 200: ok('The export', patientExportSchema), 404: ok('Not this clinic\'s') } },
  { method: 'get', path: '/v1/audit-events', summary: 'Who read or changed patient data: by patient and time, oldest first (cursor pagination)', tag: 'patients', auth: 'apiKey', scope: 'admin', query: listAuditEventsQuery, responses: { 200: ok('A page: data and nextCursor', anyObject) } },

  { method: 'post', path: '/v1/appointments', summary: 'Book: working hours, time off and packages checked in one transaction; no double booking (409)', tag: 'appointments', auth: 'apiKey', scope: 'write', body: createAppointmentSchema, idempotent: true, responses: { 201: ok('Booked', anyObject), 404: ok('Professional or patient not this clinic\'s'), 409: ok('The slot is taken (details.reason slot_taken)'), 422: ok('A rule refuses it (details.rule)') } },
  { method: 'get', path: '/v1/appointments', summary: 'List appointments (filters, cursor pagination)', tag: 'appointments', auth: 'apiKey', scope: 'read', query: listAppointmentsSchema, responses: { 200: ok('A page: data and nextCursor', anyObject) } },
  { method: 'get', path: '/v1/appointments/{id}', summary: 'One appointment with its history', tag: 'appointments', auth: 'apiKey', scope: 'read', responses: { 200: ok('The appointment', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'post', path: '/v1/appointments/{id}/reschedule', summary: 'Move an appointment (history keeps the old time; reminders move)', tag: 'appointments', auth: 'apiKey', scope: 'write', body: rescheduleSchema, idempotent: true, responses: { 200: ok('Moved', anyObject), 404: ok('Not this clinic\'s'), 409: ok('The new slot is taken'), 422: ok('A rule refuses it') } },
  { method: 'post', path: '/v1/appointments/{id}/cancel', summary: 'Cancel with a reason (the package session is returned; reminders removed)', tag: 'appointments', auth: 'apiKey', scope: 'write', body: cancelSchema, idempotent: true, responses: { 200: ok('Cancelled', anyObject), 404: ok('Not this clinic\'s'), 422: ok('Not allowed from the current status') } },
  { method: 'post', path: '/v1/appointments/{id}/confirm', summary: 'Confirm', tag: 'appointments', auth: 'apiKey', scope: 'write', idempotent: true, responses: { 200: ok('Confirmed', anyObject), 404: ok('Not this clinic\'s'), 422: ok('Not allowed from the current status') } },
  { method: 'post', path: '/v1/appointments/{id}/complete', summary: 'Mark completed', tag: 'appointments', auth: 'apiKey', scope: 'write', idempotent: true, responses: { 200: ok('Completed', anyObject), 404: ok('Not this clinic\'s'), 422: ok('Not allowed from the current status') } },
  { method: 'post', path: '/v1/appointments/{id}/no-show', summary: 'Mark no-show', tag: 'appointments', auth: 'apiKey', scope: 'write', idempotent: true, responses: { 200: ok('Marked', anyObject), 404: ok('Not this clinic\'s'), 422: ok('Not allowed from the current status') } },

  { method: 'post', path: '/v1/controls', summary: 'Authorise a package of sessions ("controle de consultas") until a date', tag: 'controls', auth: 'apiKey', scope: 'write', body: createControlSchema, idempotent: true, responses: { 201: ok('Created', anyObject), 404: ok('Patient or professional not this clinic\'s') } },
  { method: 'get', path: '/v1/controls', summary: 'List packages (by patient)', tag: 'controls', auth: 'apiKey', scope: 'read', query: listControlsSchema, responses: { 200: ok('A page: data and nextCursor', anyObject) } },
  { method: 'get', path: '/v1/controls/{id}', summary: 'One package with sessions used and remaining', tag: 'controls', auth: 'apiKey', scope: 'read', responses: { 200: ok('The package', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'post', path: '/v1/controls/{id}/renew', summary: 'Renew a package by hand: the next period with the same quota, linked to this one (once)', tag: 'controls', auth: 'apiKey', scope: 'write', idempotent: true, responses: { 201: ok('The new package', anyObject), 404: ok('Not this clinic\'s'), 409: ok('Already renewed (details.successorId)') } },

  { method: 'post', path: '/v1/webhooks', summary: 'Register a webhook endpoint (its signing secret is shown once; private addresses refused)', tag: 'webhooks', auth: 'apiKey', scope: 'admin', body: createWebhookSchema, idempotent: true, responses: { 201: ok('Created, with the secret', anyObject), 400: ok('Invalid or forbidden URL (details name the field)') } },
  { method: 'get', path: '/v1/webhooks', summary: 'The clinic\'s webhook endpoints, without secrets', tag: 'webhooks', auth: 'apiKey', scope: 'admin', responses: { 200: ok('Endpoints', anyObject) } },
  { method: 'get', path: '/v1/webhooks/{id}', summary: 'One webhook endpoint', tag: 'webhooks', auth: 'apiKey', scope: 'admin', responses: { 200: ok('The endpoint', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'patch', path: '/v1/webhooks/{id}', summary: 'Change url, event types or enabled', tag: 'webhooks', auth: 'apiKey', scope: 'admin', body: updateWebhookSchema, responses: { 200: ok('Updated', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'delete', path: '/v1/webhooks/{id}', summary: 'Remove a webhook endpoint', tag: 'webhooks', auth: 'apiKey', scope: 'admin', responses: { 204: ok('Removed'), 404: ok('Not this clinic\'s') } },
  { method: 'post', path: '/v1/webhooks/{id}/rotate-secret', summary: 'New signing secret (shown once); the previous one also signs for WEBHOOK_SECRET_GRACE_HOURS', tag: 'webhooks', auth: 'apiKey', scope: 'admin', responses: { 200: ok('The endpoint with its new secret', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'get', path: '/v1/webhooks/{id}/deliveries', summary: 'Deliveries, newest first, each with its attempts (cursor pagination)', tag: 'webhooks', auth: 'apiKey', scope: 'admin', query: listDeliveriesQuery, responses: { 200: ok('A page: data and nextCursor', anyObject), 404: ok('Not this clinic\'s') } },
  { method: 'post', path: '/v1/webhooks/{id}/deliveries/{deliveryId}/retry', summary: 'Send a pending or failed delivery again (same webhook-id)', tag: 'webhooks', auth: 'apiKey', scope: 'admin', responses: { 202: ok('Enqueued', anyObject), 404: ok('Not this clinic\'s'), 409: ok('Already delivered, an attempt is being sent, or the endpoint is disabled') } },
  { method: 'post', path: '/v1/webhooks/{id}/replay', summary: 'Re-send every subscribed event since a time, as new deliveries (new webhook-ids)', tag: 'webhooks', auth: 'apiKey', scope: 'admin', body: replaySchema, responses: { 202: ok('Enqueued: replayId, count, deliveryIds, truncated, until', anyObject), 404: ok('Not this clinic\'s'), 409: ok('The endpoint is disabled') } },
  { method: 'post', path: '/v1/webhooks/{id}/ping', summary: 'Send a webhook.ping event, delivered like any other', tag: 'webhooks', auth: 'apiKey', scope: 'admin', responses: { 202: ok('Enqueued', anyObject), 404: ok('Not this clinic\'s'), 409: ok('The endpoint is disabled') } },
];

let cached: ReturnType<typeof buildDocument> | undefined;

/** The OpenAPI document, built once per container. */
export function openApiDocument() {
  cached ??= buildDocument(ROUTES, {
    title: 'Agenda',
    version: '0.1.0',
    description:
      'Scheduling API for clinics. Authenticate with `Authorization: Bearer <API key>`; each route names the scope its key must hold (read, write or admin; 403 insufficient_scope otherwise). Errors carry a stable English `code` and a `message` in pt-BR or English (Accept-Language).',
  });
  return cached;
}
