-- The relay's sweep of stranded sends (lib/outbox/sweep.ts): an e-mail notice or webhook delivery
-- still `pending` whose job failed for good or vanished is queued again, whether or not an event
-- will ever run again (reminders have none; a manual retry may fail to enqueue).
--
-- swept_at: when the sweep last looked at the row (and queued it again or found its job live). A
-- row looked at leaves the sweep's window for a grace period, so rows whose jobs are merely slow
-- cannot fill every pass and hide stranded rows behind them. Nullable, no default: instant.
ALTER TABLE "notifications" ADD COLUMN "swept_at" TIMESTAMPTZ(3);
ALTER TABLE "webhook_deliveries" ADD COLUMN "swept_at" TIMESTAMPTZ(3);

-- The sweep's queries, oldest first by the moment a row became due for a look: its creation, a
-- delivery's scheduled retry (a delayed retry is not stranded) or its last sweep, whichever is
-- latest. Partial, so they hold only the few unsent rows however large the tables grow;
-- schema.prisma cannot express them (expression, WHERE). Building them reads each table once.
CREATE INDEX "notifications_unsent_email_idx" ON "notifications" ((GREATEST("created_at", "swept_at")))
WHERE "status" = 'pending' AND "channel" = 'email';
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" ((GREATEST(COALESCE("next_attempt_at", "created_at"), "swept_at")))
WHERE "status" = 'pending';
