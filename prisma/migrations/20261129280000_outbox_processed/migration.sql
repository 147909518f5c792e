-- When the event's `domain.event` job finished its work (reminder sync, webhook fan-out, notices).
-- Published but not processed after OUTBOX_REDRIVE_AFTER_MS, the relay re-drives it: a job that
-- failed all its attempts (e.g. through a database failover) no longer loses the event for good.
--
-- Written so that the lock this transaction holds on outbox_events does not grow with the table:
-- no statement rewrites or updates every row.
--
-- 1. Existing rows read as processed without being touched. A non-volatile DEFAULT on ADD COLUMN
--    is evaluated once and kept in the catalog (PostgreSQL 11+, "fast default"): every existing
--    row reads the migration's time, in constant time. Dropping the default right after leaves
--    that stored value to the old rows and gives new rows NULL (not processed yet).
ALTER TABLE "outbox_events" ADD COLUMN "processed_at" TIMESTAMPTZ(3) DEFAULT now();
ALTER TABLE "outbox_events" ALTER COLUMN "processed_at" DROP DEFAULT;

-- 2. The few rows that may still have work to do go back to NULL, through the
--    (published_at, created_at) index: rows published within the last hour (their job may still be
--    running or may just have failed; the old schedule retried for 30 s) and rows never published
--    (the relay publishes only unprocessed rows). After the grace period the relay looks at each
--    one's job: a live job is left alone, a failed or vanished one is re-driven, and a completed one
--    runs once more, which adds no delivery, notice or reminder (processing is idempotent) and at
--    most repeats a live push. Older rows count as processed, including the few whose job failed
--    for good under the old code: SQL cannot tell them from completed ones; to re-drive one, set its
--    processed_at back to NULL (failed jobs are kept 7 days; the queue dashboard lists them).
UPDATE "outbox_events" SET "processed_at" = NULL
WHERE "published_at" IS NULL OR "published_at" >= now() - interval '1 hour';

-- 3. The relay's re-drive query (published, unprocessed, oldest publish first) reads only the few
--    unprocessed rows, however large the table grows. Partial: schema.prisma cannot express it.
--    Building it reads the table once (the migrator runs each file in one transaction, so it cannot
--    be CONCURRENTLY); it writes and sorts only the unprocessed rows.
CREATE INDEX "outbox_events_unprocessed_idx" ON "outbox_events"("published_at") WHERE "processed_at" IS NULL;
