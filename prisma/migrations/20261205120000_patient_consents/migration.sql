-- LGPD (issue 12): consent per patient and channel, kept as history; anonymised and blocked patients.

-- Append-only: a row is one grant or revocation; the current state of a channel is its latest row
-- (highest id). The actor recorded it (an API key, the admin, a patient-facing channel, the
-- migration); the source says who decided: the clinic, or the patient (the clinic relaying it). Bases are LGPD codes (lib/domain/consents/bases.ts); legitimate interest is never
-- a basis for health data, so the database refuses it as well.
CREATE TABLE "patient_consents" (
    "id" BIGSERIAL NOT NULL,
    "clinic_id" UUID NOT NULL,
    "patient_id" UUID NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "basis" VARCHAR(32),
    "actor_type" VARCHAR(16) NOT NULL,
    "actor_id" VARCHAR(64),
    "source" VARCHAR(16) NOT NULL DEFAULT 'clinic',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "patient_consents_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "patient_consents_values" CHECK (
      "channel" IN ('email', 'in_app', 'whatsapp')
      AND "status" IN ('granted', 'revoked')
      AND ("basis" IS NULL OR "basis" IN ('consent', 'contract', 'health_protection'))
      AND ("status" = 'revoked' OR "basis" IS NOT NULL)
      AND "actor_type" IN ('api_key', 'admin', 'patient', 'migration', 'system')
      AND "source" IN ('clinic', 'patient')
    )
);

CREATE INDEX "patient_consents_patient_id_channel_id_idx" ON "patient_consents"("patient_id", "channel", "id");

ALTER TABLE "patient_consents" ADD CONSTRAINT "patient_consents_clinic_id_fkey" FOREIGN KEY ("clinic_id") REFERENCES "clinics"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "patient_consents" ADD CONSTRAINT "patient_consents_patient_id_fkey" FOREIGN KEY ("patient_id") REFERENCES "patients"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- History is never rewritten (rows still go with their patient, ON DELETE CASCADE).
CREATE FUNCTION "patient_consents_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'patient_consents is append-only';
END $$;
CREATE TRIGGER "patient_consents_no_update" BEFORE UPDATE ON "patient_consents"
  FOR EACH ROW EXECUTE FUNCTION "patient_consents_append_only"();

-- The notify_email / notify_in_app flags stay as a view of the current consent. Any write of a
-- patient row (the API, the seed, a fixture, a script) appends a consent row when a flag no longer
-- matches its channel's current state, so a flag and its consent never disagree. The actor and
-- basis come from transaction-local settings the service sets (set_config(..., true)); without
-- them, the actor is 'system' and the basis health_protection (docs/API.md says why).
CREATE FUNCTION "patients_flags_to_consents"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_actor_type TEXT := coalesce(nullif(current_setting('agenda.consent_actor_type', true), ''), 'system');
  v_actor_id   TEXT := nullif(current_setting('agenda.consent_actor_id', true), '');
  v_basis      TEXT := coalesce(nullif(current_setting('agenda.consent_basis', true), ''), 'health_protection');
  v_channel    TEXT;
  v_flag       BOOLEAN;
  v_current    TEXT;
BEGIN
  FOREACH v_channel IN ARRAY ARRAY['email', 'in_app'] LOOP
    v_flag := CASE v_channel WHEN 'email' THEN NEW."notify_email" ELSE NEW."notify_in_app" END;
    SELECT "status" INTO v_current FROM "patient_consents"
      WHERE "patient_id" = NEW."id" AND "channel" = v_channel ORDER BY "id" DESC LIMIT 1;
    IF v_current IS DISTINCT FROM (CASE WHEN v_flag THEN 'granted' ELSE 'revoked' END) THEN
      INSERT INTO "patient_consents" ("clinic_id", "patient_id", "channel", "status", "basis", "actor_type", "actor_id")
      VALUES (NEW."clinic_id", NEW."id", v_channel, CASE WHEN v_flag THEN 'granted' ELSE 'revoked' END,
              CASE WHEN v_flag THEN v_basis END, v_actor_type, v_actor_id);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER "patients_flags_to_consents" AFTER INSERT OR UPDATE OF "notify_email", "notify_in_app" ON "patients"
  FOR EACH ROW EXECUTE FUNCTION "patients_flags_to_consents"();

-- Backfill: one row per existing patient and flagged channel, as the migration recorded it.
INSERT INTO "patient_consents" ("clinic_id", "patient_id", "channel", "status", "basis", "actor_type", "created_at")
SELECT p."clinic_id", p."id", c."channel", CASE WHEN c."flag" THEN 'granted' ELSE 'revoked' END,
       CASE WHEN c."flag" THEN 'health_protection' END, 'migration', now()
  FROM "patients" p
  CROSS JOIN LATERAL (VALUES ('email', p."notify_email"), ('in_app', p."notify_in_app")) AS c("channel", "flag")
 ORDER BY p."created_at", p."id", c."channel";

-- Anonymised: contact data erased, the row kept as a placeholder so appointments keep their key.
-- Blocked: data kept (a legal duty to keep the record), the patient out of lists and notices.
ALTER TABLE "patients" ADD COLUMN "anonymized_at" TIMESTAMPTZ(3);
ALTER TABLE "patients" ADD COLUMN "blocked_at" TIMESTAMPTZ(3);
