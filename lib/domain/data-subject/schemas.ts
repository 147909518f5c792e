import { z } from 'zod';

const instant = z.string().describe('ISO 8601 instant (UTC)');
const nullableInstant = instant.nullable();
const id = z.string();

const consent = z.strictObject({
  id, channel: z.string(), status: z.string(), basis: z.string().nullable(), actorType: z.string(), actorId: z.string().nullable(),
  source: z.string(), at: instant,
});

const historyEntry = z.strictObject({
  action: z.string(), fromStatus: z.string().nullable(), toStatus: z.string(), previousStartsAt: nullableInstant,
  previousEndsAt: nullableInstant, reason: z.string().nullable(), at: instant,
});

const appointment = z.strictObject({
  id, professionalId: id, patientId: id, controlId: id.nullable(), startsAt: instant, endsAt: instant, durationMinutes: z.number(),
  blockStartsAt: instant, blockEndsAt: instant, status: z.string(), cancelReason: z.string().nullable(), notes: z.string().nullable(),
  createdAt: instant, updatedAt: instant, history: z.array(historyEntry),
});

const sessionPackage = z.strictObject({
  id, patientId: id, professionalId: id.nullable(), specialty: z.string().nullable(), sessionsTotal: z.number(), sessionsUsed: z.number(),
  sessionsRemaining: z.number(), validFrom: instant, validUntil: instant, status: z.string(), renewalPolicy: z.string(),
  previousControlId: id.nullable(), createdAt: instant, updatedAt: instant,
  renewalRequest: z.strictObject({ id, status: z.string(), reason: z.string(), createdAt: instant, resolvedAt: nullableInstant }).nullable(),
});

const notification = z.strictObject({
  id, appointmentId: id.nullable(), controlId: id.nullable(), kind: z.string(), channel: z.string(), status: z.string(),
  skipReason: z.string().nullable(), startsAt: nullableInstant, attempts: z.number(), createdAt: instant, sentAt: nullableInstant,
});

const webhookDelivery = z.strictObject({
  id, endpointId: id, url: z.string(), eventType: z.string(), status: z.string(), attempts: z.number(), createdAt: instant, deliveredAt: nullableInstant,
});

const auditEvent = z.strictObject({
  id, at: instant, actorType: z.string(), actorId: z.string().nullable(), action: z.string(), resourceType: z.string(),
  resourceId: z.string(), patientId: id.nullable(), requestId: z.string().nullable(),
});

const patient = z.strictObject({
  id, name: z.string(), email: z.string().nullable(), phone: z.string().nullable(), birthDate: z.string().nullable(), locale: z.string(),
  notifyEmail: z.boolean(), notifyInApp: z.boolean(), createdAt: instant, updatedAt: instant, anonymizedAt: nullableInstant, blockedAt: nullableInstant,
});

/**
 * The export's document (GET /v1/patients/{id}/export) as the OpenAPI document shows it; a test
 * parses a real export with it, strictly, so the two cannot drift apart.
 */
export const patientExportSchema = z.strictObject({
  exportedAt: instant,
  patient,
  consents: z.array(consent).describe('Every grant and revocation, oldest first'),
  appointments: z.array(appointment).describe('Every appointment, cancelled ones too, with its history'),
  sessionPackages: z.array(sessionPackage),
  notifications: z.array(notification).describe('Notices sent, skipped or failed (the text is not kept)'),
  webhookDeliveries: z.array(webhookDelivery).describe("Deliveries to the clinic's systems whose event named the patient"),
  auditEvents: z.array(auditEvent).describe("Who read or changed the patient's data"),
});
