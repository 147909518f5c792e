import { randomBytes } from 'node:crypto';
import { getConfig } from '../config';
import { getDb } from '../db/client';
import { NotFoundError, ValidationError } from '../errors/app-error';
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
  createdAt: true,
  updatedAt: true,
} as const;

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** Tests inject a resolver; production resolves through the system (dns.lookup, all addresses). */
let resolverOverride: Resolver | undefined;
export function setWebhookResolverForTests(resolve: Resolver | undefined) {
  resolverOverride = resolve;
}

async function checkUrl(url: string): Promise<string> {
  try {
    const parsed = await assertSafeWebhookUrl(url, { allowLoopback: getConfig().webhooks.allowLoopback, resolve: resolverOverride });
    return parsed.toString();
  } catch (err) {
    if (err instanceof ForbiddenWebhookTargetError) throw new ValidationError('Invalid body', [{ field: 'url', problem: err.reason }]);
    throw err;
  }
}

const dedupe = (types: string[]) => (types.includes('*') ? ['*'] : [...new Set(types)]);

export async function createWebhookEndpoint(clinicId: string, input: { url: string; eventTypes: string[] }) {
  const url = await checkUrl(input.url);
  const db = await getDb();
  const row = await db.webhookEndpoint.create({
    data: { clinicId, url, eventTypes: dedupe(input.eventTypes), secret: newWebhookSecret() },
    select: { ...PUBLIC_FIELDS, secret: true },
  });
  return row; // the only time the secret is shown
}

export async function listWebhookEndpoints(clinicId: string) {
  const db = await getDb();
  return db.webhookEndpoint.findMany({ where: { clinicId }, select: PUBLIC_FIELDS, orderBy: { createdAt: 'asc' } });
}

export async function getWebhookEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const row = await db.webhookEndpoint.findFirst({ where: { id, clinicId }, select: PUBLIC_FIELDS });
  if (!row) throw new NotFoundError('Webhook endpoint not found');
  return row;
}

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
    // Re-enabling starts a fresh failure count.
    if (input.enabled) Object.assign(data, { disabledReason: null, failureCount: 0, firstFailureAt: null });
    else data.disabledReason = 'disabled by the clinic';
  }
  const db = await getDb();
  const { count } = await db.webhookEndpoint.updateMany({ where: { id, clinicId }, data });
  if (count === 0) throw new NotFoundError('Webhook endpoint not found');
  return getWebhookEndpoint(clinicId, id);
}

export async function deleteWebhookEndpoint(clinicId: string, id: string) {
  const db = await getDb();
  const { count } = await db.webhookEndpoint.deleteMany({ where: { id, clinicId } });
  if (count === 0) throw new NotFoundError('Webhook endpoint not found');
}
