-- When the event's `domain.event` job finished its work (reminder sync, webhook fan-out, notices).
-- Published but not processed after OUTBOX_REDRIVE_AFTER_MS, the relay re-drives it: a job that
-- failed all its attempts (e.g. through a database failover) no longer loses the event for good.
ALTER TABLE "outbox_events" ADD COLUMN "processed_at" TIMESTAMPTZ(3);

-- Backfill. Rows published more than an hour ago had their job finish long since (the old schedule
-- retried for 30 s): they count as processed at their publish time. That includes the few whose job
-- failed for good under the old code: SQL cannot tell them from completed ones; to re-drive one, set
-- its processed_at back to NULL (failed jobs are kept 7 days; the queue dashboard lists them).
-- Rows published within the last hour stay NULL on purpose: their job may still be running or may
-- have just failed, so the relay looks at each one's job after the grace period: a live job is left
-- alone, a failed or vanished one is re-driven, and a completed one runs once more, which adds no
-- delivery, notice or reminder (processing is idempotent) and at most repeats a live push.
UPDATE "outbox_events" SET "processed_at" = "published_at"
WHERE "published_at" IS NOT NULL AND "published_at" < now() - interval '1 hour';

-- The relay's re-drive query (published, unprocessed, oldest publish first) reads only the few
-- unprocessed rows, however large the table grows. Partial: schema.prisma cannot express it.
CREATE INDEX "outbox_events_unprocessed_idx" ON "outbox_events"("published_at") WHERE "processed_at" IS NULL;
