# The worker container: BullMQ consumers for the four queues (see worker/).
# Build: docker build -t agenda-worker .   Run: docker run --env-file .env -p 3100:3100 agenda-worker
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts/prisma-generate.cjs scripts/
COPY prisma ./prisma
# postinstall generates the Prisma client from prisma/schema.prisma.
RUN npm ci
COPY . .
RUN npm run build:worker

# One self-contained bundle (Prisma's query compiler, BullMQ's scripts included): no node_modules.
# Beside it, bull-board-ui/: the queue dashboard's page and assets, read from disk at run time; and
# migrate.js with migrations/: `node migrate.js` (e.g. a one-off ECS task with this image and the
# command overridden) applies pending migrations through DIRECT_DATABASE_URL, no tsx, no sources.
FROM node:20-bookworm-slim
ENV NODE_ENV=production AGENDA_PROFILE=worker WORKER_HEALTH_PORT=3100
# Production requires sslmode=verify-full to PostgreSQL: RDS's CA bundle, beside Node's own CAs.
ADD https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
RUN chmod 644 /etc/ssl/certs/rds-global-bundle.pem
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/rds-global-bundle.pem
WORKDIR /app
COPY --from=build /app/dist/worker ./
USER node
EXPOSE 3100
# Liveness, not readiness: /live fails only when the process hangs (event loop stuck past
# WORKER_LIVENESS_MAX_LAG_MS), so a database outage never gets the workers replaced. /ready (503
# while a dependency is down, at start-up, while draining) is for whatever routes work or alarms.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.WORKER_HEALTH_PORT+'/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains: no new jobs, active ones finish within WORKER_SHUTDOWN_TIMEOUT_MS (keep it below the
# platform's stop timeout, e.g. ECS stopTimeout or Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "main.js"]
