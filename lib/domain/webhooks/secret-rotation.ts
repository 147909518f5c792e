import { getConfig } from '../../platform/config';
import { getDb } from '../../platform/db/client';
import { NotFoundError } from '../../platform/errors/app-error';
import { sealForSql } from '../../platform/db/sealed-fields';
import { getWebhookEndpoint } from './endpoints';
import { newWebhookSecret } from './signing';

/**
 * A new secret, shown once. The previous one keeps signing (a second `v1,` signature) for
 * WEBHOOK_SECRET_GRACE_HOURS, so the receiver can switch without losing deliveries. Rotating again
 * inside the grace period drops the older secret: only the last one before the new one is kept.
 */
export async function rotateWebhookSecret(clinicId: string, id: string) {
  const db = await getDb();
  const graceMs = getConfig().webhooks.secretGraceHours * 3_600_000;
  const secret = newWebhookSecret();
  const expiresAt = new Date(Date.now() + graceMs);
  // Raw SQL stores what it is given: seal the new secret here; the previous one moves as stored.
  // One statement: the previous secret is the one stored at that instant, even with two rotations racing.
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE "webhook_endpoints"
       SET "previous_secret" = CASE WHEN ${graceMs > 0}::boolean THEN "secret" END,
           "previous_secret_expires_at" = ${graceMs > 0 ? expiresAt : null}::timestamptz,
           "secret" = ${await sealForSql(secret)},
           "updated_at" = now()
     WHERE "id" = ${id}::uuid AND "clinic_id" = ${clinicId}::uuid
    RETURNING "id"`;
  if (rows.length === 0) throw new NotFoundError('Webhook endpoint not found');
  const endpoint = await getWebhookEndpoint(clinicId, id);
  return { ...endpoint, secret, previousSecretExpiresAt: graceMs > 0 ? expiresAt : null };
}
