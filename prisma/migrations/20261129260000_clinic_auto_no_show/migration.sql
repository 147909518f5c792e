-- Per-clinic setting: appointments still scheduled/confirmed this many minutes after their end are
-- marked no-show by the worker's sweep. NULL turns the sweep off for the clinic (the default).
ALTER TABLE "clinics" ADD COLUMN "auto_no_show_after_minutes" INTEGER;

ALTER TABLE "clinics" ADD CONSTRAINT "clinics_auto_no_show_after_minutes_range"
  CHECK ("auto_no_show_after_minutes" IS NULL OR "auto_no_show_after_minutes" BETWEEN 0 AND 4320);
