/**
 * The fields stored encrypted, by Prisma model, with their table and columns for the SQL passes
 * (backfill, rotation). Patient data (LGPD) and the webhook signing secrets. `hash` names the
 * field whose keyed hash is kept beside it for equality lookups.
 */
export interface EncryptedModel {
  table: string;
  /** Prisma field -> column. */
  fields: Readonly<Record<string, string>>;
  hash?: { field: string; hashField: string; column: string };
}

export const ENCRYPTED_MODELS: Readonly<Record<string, EncryptedModel>> = {
  Patient: {
    table: 'patients',
    fields: { email: 'email', phone: 'phone' },
    hash: { field: 'email', hashField: 'emailHash', column: 'email_hash' },
  },
  Appointment: { table: 'appointments', fields: { notes: 'notes' } },
  WebhookEndpoint: { table: 'webhook_endpoints', fields: { secret: 'secret', previousSecret: 'previous_secret' } },
};

/**
 * Field names that may hold a sealed value in a result, whichever model (or nested relation) it came
 * from: results are opened by name, so `include: { patient: true }` is opened too.
 */
export const SEALED_FIELD_NAMES: ReadonlySet<string> = new Set(Object.values(ENCRYPTED_MODELS).flatMap((m) => Object.keys(m.fields)));
