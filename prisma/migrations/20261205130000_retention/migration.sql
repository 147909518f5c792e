-- Retention (lib/domain/retention): per-clinic settings and the indexes that keep the purge cheap.
-- The settings hold only what a clinic chose, in days; defaults and bounds live in the code
-- (lib/domain/retention/policy.ts). A constant default: no table rewrite.
ALTER TABLE "clinics" ADD COLUMN "retention" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "clinics" ADD CONSTRAINT "clinics_retention_object" CHECK (jsonb_typeof("retention") = 'object');

-- Each purge statement walks one clinic (or one endpoint) at a time, oldest first, and stops at its
-- batch: the partial indexes hold only rows the purge may touch, so rows it must keep (pending,
-- unprocessed, already stripped) are never read. Built inside the migration's transaction (not
-- CONCURRENTLY, see docs/MIGRATIONS.md): each writes only the rows its predicate admits.
CREATE INDEX "outbox_events_processed_idx" ON "outbox_events" ("clinic_id", "created_at")
  WHERE "processed_at" IS NOT NULL;
CREATE INDEX "webhook_deliveries_finished_idx" ON "webhook_deliveries" ("endpoint_id", "created_at")
  WHERE "status" <> 'pending';
CREATE INDEX "webhook_attempts_details_idx" ON "webhook_attempts" ("delivery_id")
  WHERE "response_excerpt" IS NOT NULL OR "error" IS NOT NULL;
CREATE INDEX "notifications_errors_idx" ON "notifications" ("clinic_id", "created_at")
  WHERE "last_error" IS NOT NULL;
