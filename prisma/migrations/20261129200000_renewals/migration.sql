-- Renewals (issue #4): a renewal request is what a manual-policy session package gets when it runs
-- out or nears its end; the clinic renews it (POST /v1/controls/{id}/renew) or dismisses it. One
-- request per package, ever: the renewal scan may run twice or on two workers at once.

-- CreateTable
CREATE TABLE "renewal_requests" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "clinic_id" UUID NOT NULL,
    "control_id" UUID NOT NULL,
    "status" VARCHAR(16) NOT NULL DEFAULT 'pending',
    "reason" VARCHAR(16) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "renewal_requests_pkey" PRIMARY KEY ("id"),
    -- Not expressible in schema.prisma (listed in the schema-match test's ALLOWED_EXTRAS).
    CONSTRAINT "renewal_requests_values" CHECK (
        "status" IN ('pending', 'fulfilled', 'dismissed')
        AND "reason" IN ('exhausted', 'expiring')
        AND (("status" = 'pending') = ("resolved_at" IS NULL))
    )
);

-- CreateIndex
CREATE UNIQUE INDEX "renewal_requests_control_id_key" ON "renewal_requests"("control_id");

-- CreateIndex
CREATE INDEX "renewal_requests_clinic_id_status_idx" ON "renewal_requests"("clinic_id", "status");

-- AddForeignKey
ALTER TABLE "renewal_requests" ADD CONSTRAINT "renewal_requests_clinic_id_fkey" FOREIGN KEY ("clinic_id") REFERENCES "clinics"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "renewal_requests" ADD CONSTRAINT "renewal_requests_control_id_fkey" FOREIGN KEY ("control_id") REFERENCES "appointment_controls"("id") ON DELETE CASCADE ON UPDATE CASCADE;
