-- WebSocket hardening (issue #4). socket_connections.api_key_id already exists (NOT NULL, set at
-- $connect since 20261129240000) but had no foreign key: revoking a key must find and close the
-- sockets it opened, so it now references api_keys, with an index for that lookup. ON DELETE
-- CASCADE: a socket is only as valid as the key that opened it (keys are revoked, not deleted; a
-- deleted key, e.g. with its clinic, takes its sockets' rows along). last_seen_at is the last message
-- from the client, for the sweep of rows API Gateway's 10-minute idle timeout has closed.

-- Rows whose key no longer exists could never be authenticated again.
DELETE FROM "socket_connections" s WHERE NOT EXISTS (SELECT 1 FROM "api_keys" k WHERE k."id" = s."api_key_id");

-- AlterTable
ALTER TABLE "socket_connections" ADD COLUMN "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "socket_connections_api_key_id_idx" ON "socket_connections"("api_key_id");

-- AddForeignKey
ALTER TABLE "socket_connections" ADD CONSTRAINT "socket_connections_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
