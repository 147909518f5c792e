-- WebSocket connections (issue #4): one row per open socket, authenticated by an API key at
-- $connect, with its subscription scope ('clinic' or a professional id; NULL until subscribe).

-- CreateTable
CREATE TABLE "socket_connections" (
    "connection_id" TEXT NOT NULL,
    "clinic_id" UUID NOT NULL,
    "api_key_id" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "scope" VARCHAR(64),
    "connected_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "socket_connections_pkey" PRIMARY KEY ("connection_id")
);

-- CreateIndex
CREATE INDEX "socket_connections_clinic_id_idx" ON "socket_connections"("clinic_id");

-- AddForeignKey
ALTER TABLE "socket_connections" ADD CONSTRAINT "socket_connections_clinic_id_fkey" FOREIGN KEY ("clinic_id") REFERENCES "clinics"("id") ON DELETE CASCADE ON UPDATE CASCADE;
