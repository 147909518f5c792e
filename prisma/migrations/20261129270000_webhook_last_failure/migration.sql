-- Webhook failure streaks (issue #4): an endpoint is disabled only when failing continuously, so
-- the time of the last failure is kept; a failure long after it starts a new streak.

-- AlterTable
ALTER TABLE "webhook_endpoints" ADD COLUMN     "last_failure_at" TIMESTAMPTZ(3);

-- Backfill: with a streak open (no success since first_failure_at), the latest attempt is its last failure.
UPDATE "webhook_endpoints" AS e
   SET "last_failure_at" = (
         SELECT max(a."created_at")
           FROM "webhook_attempts" AS a
           JOIN "webhook_deliveries" AS d ON d."id" = a."delivery_id"
          WHERE d."endpoint_id" = e."id"
       )
 WHERE e."first_failure_at" IS NOT NULL;
