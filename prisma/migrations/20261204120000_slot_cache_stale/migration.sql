-- A professional whose cached slot lists could not be dropped (Redis unreachable at the change):
-- slot reads skip the cache while it is set, and the outbox relay drops the lists and clears it
-- once Redis answers (lib/availability/cache.ts). Nullable without a default: no table rewrite.
ALTER TABLE "professionals" ADD COLUMN "slot_cache_stale_since" TIMESTAMPTZ(3);

-- The relay looks for marked professionals on every pass; there are none outside an outage.
CREATE INDEX "professionals_slot_cache_stale_idx" ON "professionals" ("slot_cache_stale_since")
  WHERE "slot_cache_stale_since" IS NOT NULL;
