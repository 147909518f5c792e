import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors/app-error';
import { newWebhookSecret } from './signing';
import { assertSafeWebhookUrl, ForbiddenWebhookTargetError, type Resolver } from './ssrf';

/** The fields shown for an endpoint; the secret only on create. */
const PUBLIC_FIELDS = {
  id: true,
  url: true,
  eventTypes: true,
  enabled: true,
  disabledReason: true,
  failureCount: true,
  firstFailureAt: true,
  lastFailureAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

let resolverOverride: Resolver | undefined;
/** Tests inject a resolver; production resolves through the system (dns.lookup, all addresses). */
export function setWebhookResolverForTests(resolve: Resolver | undefined) {
  resolverOverride = resolve;
}

/** A refused address is the caller's mistake (400 on `url`), not a server error. */
async function checkUrl(url: string): Promise<string> {
  try {
    const parsed = await assertSafeWebhookUrl(url, { allowLoopback: getConfig().webhooks.allowLoopback, resolve: resolverOverride });
    return parsed.toString();
  } catch (err) {
    if (err instanceof ForbiddenWebhookTargetError) throw new ValidationError('Invalid body', [{ field: 'url', problem: err.reason }]);
    throw err;
  }
}

/** `*` already covers every type; repeats would only make the filter harder to read back. */
const dedupe = (types: string[]) => (types.includes('*') ? ['*'] : [...new Set(types)]);

/**
 * The URL meets the SSRF guard here as well as at send time, so a bad one fails while the clinic is
 * watching. Its answer carries the secret, which no read shows again (only a rotation makes a new one).
 */
export async function createWebhookEndpoint(clinicId: string, input: { url: string; eventTypes: string[] }) {
  const url = await checkUrl(input.url);
  const db = await getDb();
  const row = await db.webhookEndpoint.create({
    data: { clinicId, url, eventTypes: dedupe(input.eventTypes), secret: newWebhookSecret() },
    select: { ...PUBLIC_FIELDS, secret: true },
  });
  return row; // the only time the secret is shown
}

/** Secrets are never listed: they were shown once, on create or rotation. */
export async function listWebhookEndpoints(clinicId: string) {
  const db = await getDb();
  return db.webhookEndpoint.findMany({ where: { clinicId }, select: PUBLIC_FIELDS, orderBy: { createdAt: 'asc' } });
}

/** Another clinic's endpoint is a 404, the same as a missing one, so probing ids reveals nothing. */
export async function getWebhookEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const row = await db.webhookEndpoint.findFirst({ where: { id, clinicId }, select: PUBLIC_FIELDS });
  if (!row) throw new NotFoundError('Webhook endpoint not found');
  return row;
}

/**
 * Re-enabling starts a fresh failure count, or the old streak would disable the endpoint again on
 * its first failure; disabling by hand records why, beside the automatic reasons.
 */
export async function updateWebhookEndpoint(
  clinicId: string,
  id: string,
  input: { url?: string; eventTypes?: string[]; enabled?: boolean },
) {
  await getWebhookEndpoint(clinicId, id); // 404 for another clinic's id
  const data: Record<string, unknown> = {};
  if (input.url !== undefined) data.url = await checkUrl(input.url);
  if (input.eventTypes !== undefined) data.eventTypes = dedupe(input.eventTypes);
  if (input.enabled !== undefined) {
    data.enabled = input.enabled;
    if (input.enabled) Object.assign(data, { disabledReason: null, failureCount: 0, firstFailureAt: null });
    else data.disabledReason = 'disabled by the clinic';
  }
  const db = await getDb();
  const { count } = await db.webhookEndpoint.updateMany({ where: { id, clinicId }, data });
  if (count === 0) throw new NotFoundError('Webhook endpoint not found');
  return getWebhookEndpoint(clinicId, id);
}

/** Scoped to the clinic, so another clinic's id is a 404, never a deletion. Deliveries go with it (cascade). */
export async function deleteWebhookEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const { count } = await db.webhookEndpoint.deleteMany({ where: { id, clinicId } });
  if (count === 0) throw new NotFoundError('Webhook endpoint not found');
}

/**
 * The endpoint, if it is this clinic's: the operations' gate. 404 otherwise, the same as for an id
 * that does not exist.
 */
export async function ownEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const row = await db.webhookEndpoint.findFirst({ where: { id, clinicId }, select: { id: true, enabled: true, eventTypes: true } });
  if (!row) throw new NotFoundError('Webhook endpoint not found');
  return row;
}

/** Sending to a disabled endpoint would undo the decision to stop; the clinic enables it first. */
export function assertEnabled(endpoint: { id: string; enabled: boolean }) {
  if (!endpoint.enabled) throw new ConflictError('The webhook endpoint is disabled; enable it first', { endpointId: endpoint.id, reason: 'endpoint_disabled' });
}
