-- Webhook operations (issue #4): secret rotation with a grace period, and replays as new deliveries.

-- AlterTable
ALTER TABLE "webhook_endpoints" ADD COLUMN     "previous_secret" VARCHAR(128),
ADD COLUMN     "previous_secret_expires_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "webhook_deliveries" ADD COLUMN     "replay_id" UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';

-- DropIndex
DROP INDEX "webhook_deliveries_endpoint_id_event_id_key";

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_endpoint_id_event_id_replay_id_key" ON "webhook_deliveries"("endpoint_id", "event_id", "replay_id");
