-- LGPD (issue 12): the access audit trail. Who read or changed a patient's data: the actor (an API
-- key, the admin, a job, the system), the clinic, the subject patient, the action, the resource, the
-- time and the request id. Append-only: rows are never updated, and deleted only by the retention
-- purge (purge_audit_events below) or with their clinic.
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "clinic_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "actor_type" VARCHAR(16) NOT NULL,
    "actor_id" VARCHAR(64),
    "action" VARCHAR(16) NOT NULL,
    "resource_type" VARCHAR(24) NOT NULL,
    "resource_id" TEXT NOT NULL,
    -- No foreign key: the record outlives a deleted patient (that is what it is for).
    "patient_id" UUID,
    "request_id" VARCHAR(128),

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "audit_events_values" CHECK (
      "actor_type" IN ('api_key', 'admin', 'job', 'system')
      AND "action" IN ('read', 'list', 'export', 'create', 'update', 'delete', 'anonymize', 'block', 'unblock')
      AND "resource_type" IN ('patient', 'appointment', 'session_package', 'consent')
    )
);

CREATE INDEX "audit_events_clinic_id_patient_id_at_id_idx" ON "audit_events"("clinic_id", "patient_id", "at", "id");
CREATE INDEX "audit_events_clinic_id_at_id_idx" ON "audit_events"("clinic_id", "at", "id");

ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_clinic_id_fkey" FOREIGN KEY ("clinic_id") REFERENCES "clinics"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Append-only. A delete passes only inside purge_audit_events (which sets agenda.audit_purge for its
-- own transaction) or when the clinic itself is gone (the cascade).
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF current_setting('agenda.audit_purge', true) = 'on'
       OR NOT EXISTS (SELECT 1 FROM "clinics" WHERE "id" = OLD."clinic_id") THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();

-- The retention purge: deletes the given rows (picked by the caller, past their clinic's retention)
-- and answers how many went.
CREATE FUNCTION "purge_audit_events"(p_ids BIGINT[]) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  v_count INTEGER;
BEGIN
  PERFORM set_config('agenda.audit_purge', 'on', true);
  DELETE FROM "audit_events" WHERE "id" = ANY(p_ids);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  PERFORM set_config('agenda.audit_purge', 'off', true);
  RETURN v_count;
END $$;

-- Changes are recorded by the database, in the statement that makes them: nothing to forget in the
-- code, and no round trip of its own. The actor and request id come from transaction-local settings
-- (lib/platform/db/transaction.ts); a change made without them is the system's.
CREATE FUNCTION "audit_row_change"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_row      RECORD;
  v_resource TEXT := TG_ARGV[0];
  v_action   TEXT := CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'DELETE' THEN 'delete' ELSE 'update' END;
  v_patient  UUID;
  v_id       TEXT;
BEGIN
  IF TG_OP = 'DELETE' THEN v_row := OLD; ELSE v_row := NEW; END IF;
  -- A clinic being deleted takes its whole trail with it: nothing to record.
  IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM "clinics" WHERE "id" = OLD."clinic_id") THEN
    RETURN NULL;
  END IF;
  IF v_resource = 'patient' THEN
    v_patient := v_row."id";
    IF TG_OP = 'UPDATE' THEN
      IF NEW."anonymized_at" IS NOT NULL AND OLD."anonymized_at" IS NULL THEN v_action := 'anonymize';
      ELSIF NEW."blocked_at" IS NOT NULL AND OLD."blocked_at" IS NULL THEN v_action := 'block';
      ELSIF NEW."blocked_at" IS NULL AND OLD."blocked_at" IS NOT NULL THEN v_action := 'unblock';
      END IF;
    END IF;
  ELSE
    v_patient := v_row."patient_id";
  END IF;
  v_id := v_row."id"::text;
  INSERT INTO "audit_events" ("clinic_id", "actor_type", "actor_id", "action", "resource_type", "resource_id", "patient_id", "request_id")
  VALUES (v_row."clinic_id",
          coalesce(nullif(current_setting('agenda.actor_type', true), ''), 'system'),
          nullif(current_setting('agenda.actor_id', true), ''),
          v_action, v_resource, v_id, v_patient,
          nullif(current_setting('agenda.request_id', true), ''));
  RETURN NULL;
END $$;

CREATE TRIGGER "patients_audit" AFTER INSERT OR DELETE ON "patients"
  FOR EACH ROW EXECUTE FUNCTION "audit_row_change"('patient');
CREATE TRIGGER "patients_audit_update" AFTER UPDATE ON "patients"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "audit_row_change"('patient');
CREATE TRIGGER "appointments_audit" AFTER INSERT OR DELETE ON "appointments"
  FOR EACH ROW EXECUTE FUNCTION "audit_row_change"('appointment');
CREATE TRIGGER "appointments_audit_update" AFTER UPDATE ON "appointments"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "audit_row_change"('appointment');
CREATE TRIGGER "appointment_controls_audit" AFTER INSERT OR DELETE ON "appointment_controls"
  FOR EACH ROW EXECUTE FUNCTION "audit_row_change"('session_package');
CREATE TRIGGER "appointment_controls_audit_update" AFTER UPDATE ON "appointment_controls"
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION "audit_row_change"('session_package');
-- Consent rows are themselves a record; their insertion is the change (the history is append-only).
CREATE TRIGGER "patient_consents_audit" AFTER INSERT ON "patient_consents"
  FOR EACH ROW EXECUTE FUNCTION "audit_row_change"('consent');
