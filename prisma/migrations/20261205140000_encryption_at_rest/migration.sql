-- Encryption at rest (issue 12, lib/platform/crypto): the data keys that seal patient contact data,
-- appointment notes and webhook signing secrets, each stored wrapped (by AWS KMS in production, by
-- DATA_KEY_ENCRYPTION_KEY in development). One active key per purpose ('data' seals fields, 'hash'
-- keys the e-mail lookup hash); retired keys stay so values sealed under them still open.

-- CreateTable
CREATE TABLE "data_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "purpose" VARCHAR(16) NOT NULL,
    "wrapped_key" BYTEA NOT NULL,
    "wrapping_key_id" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "data_keys_pkey" PRIMARY KEY ("id")
);

-- At most one active key per purpose: two containers creating the first key keep one.
CREATE UNIQUE INDEX "data_keys_one_active_idx" ON "data_keys" ("purpose") WHERE "active";

-- The keyed hash of the patient's e-mail (HMAC-SHA256 under the active 'hash' key): the e-mail
-- column is sealed, so equality lookups use this. Nullable without a default: no table rewrite.
ALTER TABLE "patients" ADD COLUMN "email_hash" TEXT;
CREATE INDEX "patients_clinic_id_email_hash_idx" ON "patients"("clinic_id", "email_hash");

-- A sealed secret is longer than 128 characters; varchar to text rewrites nothing.
ALTER TABLE "webhook_endpoints" ALTER COLUMN "secret" SET DATA TYPE TEXT,
                                ALTER COLUMN "previous_secret" SET DATA TYPE TEXT;
