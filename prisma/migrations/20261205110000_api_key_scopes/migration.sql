-- Scoped access (issue #12, item 7): every API key carries its scopes. Keys that exist already get
-- all three, so no clinic's integration breaks; a key minted from now on names its own (the column's
-- default, read and write, is what POST /v1/api-keys gives when the body names none). A list column
-- is nullable in Prisma's DDL, so the CHECK refuses NULL too: never a key without scopes.
ALTER TABLE "api_keys" ADD COLUMN "scopes" TEXT[] DEFAULT ARRAY['read', 'write', 'admin']::TEXT[];
ALTER TABLE "api_keys" ALTER COLUMN "scopes" SET DEFAULT ARRAY['read', 'write']::TEXT[];
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_scopes_known"
  CHECK ("scopes" IS NOT NULL AND cardinality("scopes") > 0 AND "scopes" <@ ARRAY['read', 'write', 'admin']::TEXT[]);

-- WebSocket tickets: short-lived, single-use, minted by POST /v1/realtime/tickets and redeemed by
-- $connect. Only a SHA-256 of the ticket is stored; redeeming deletes the row, so a reuse finds none.
-- CreateTable
CREATE TABLE "realtime_tickets" (
    "token_hash" CHAR(64) NOT NULL,
    "clinic_id" UUID NOT NULL,
    "api_key_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "realtime_tickets_pkey" PRIMARY KEY ("token_hash")
);

-- CreateIndex
CREATE INDEX "realtime_tickets_api_key_id_idx" ON "realtime_tickets"("api_key_id");

-- CreateIndex
CREATE INDEX "realtime_tickets_expires_at_idx" ON "realtime_tickets"("expires_at");

-- AddForeignKey
ALTER TABLE "realtime_tickets" ADD CONSTRAINT "realtime_tickets_clinic_id_fkey" FOREIGN KEY ("clinic_id") REFERENCES "clinics"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "realtime_tickets" ADD CONSTRAINT "realtime_tickets_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
