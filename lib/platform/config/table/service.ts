import { z } from 'zod';
import { env, none, PROFILES, secret } from '../variable';
import { anyUrl, int, keyPrefix } from '../parsers';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

/** Who this deployment is and how its edge answers: the profile first, since it picks the other defaults. */
export const SERVICE = {
  profile: env('AGENDA_PROFILE', z.enum(PROFILES), 'api',
    'The connection profile this process runs under; it picks the per-profile defaults.'),
  reservedConcurrency: env('AGENDA_RESERVED_CONCURRENCY', int(1, 100_000), none,
    "The function's reserved concurrency (set beside it), so /health can show its share of the connection budget."),
  service: env('SERVICE_NAME', z.string().min(1), 'agenda',
    'Names the connections (application_name) and the job function.'),
  stage: env('STAGE', z.string().min(1), 'dev',
    "The deployment stage, part of the job function's name."),
  logLevel: env('LOG_LEVEL', z.string().transform((v) => v.toUpperCase()).pipe(z.enum(LOG_LEVELS)), 'INFO',
    'Validated here; the logger reads it itself at import, so that it can log an invalid configuration.'),
  healthCheckTimeoutMs: env('HEALTH_CHECK_TIMEOUT_MS', int(100, 60_000), { api: 2_500, worker: 5_000 },
    'Bound on each dependency check of a health probe, so the probe itself answers in time.'),
  adminSecret: secret(env('ADMIN_SECRET', z.string().min(16), none,
    'Bearer secret of the admin routes; unset, they are closed.')),
  http: {
    bodyMaxBytes: env('BODY_MAX_BYTES', int(1, 10 * 1024 * 1024), 64 * 1024,
      'Largest request body, in bytes after base64 decoding; a larger one answers 413 before parsing.'),
  },
  rateLimit: {
    points: env('RATE_LIMIT_POINTS', int(0, 1_000_000), 100,
      'Requests per API key per window, counted in Redis across containers (in memory while it is down); 0: no limit.'),
    // Derived: 5 keys' worth, so a clinic's integrations share a budget that minting more keys does not grow.
    clinicPoints: env('RATE_LIMIT_CLINIC_POINTS', int(0, 5_000_000), (e) => String(Number(e.RATE_LIMIT_POINTS) * 5),
      "Requests per clinic per window, all its keys together, beside each key's own; unset: 5 x RATE_LIMIT_POINTS; 0: no clinic limit."),
    durationSeconds: env('RATE_LIMIT_DURATION_S', int(1, 86_400), 10,
      'The rate-limit window.'),
    keyPrefix: env('RATE_LIMIT_KEY_PREFIX', keyPrefix, 'agenda:rl',
      'Prefix of the rate-limit counters in Redis.'),
  },
  apiKeysPerClinicMax: env('API_KEYS_PER_CLINIC_MAX', int(1, 10_000), 20,
    'Active (not revoked) API keys a clinic may hold; minting past it answers 409.'),
  realtimeTicketTtlSeconds: env('REALTIME_TICKET_TTL_S', int(5, 3_600), 60,
    'How long a WebSocket ticket (POST /v1/realtime/tickets) can open a socket; it opens one at most.'),
  aws: {
    region: env('AWS_REGION', z.string(), 'us-east-1',
      'Region of the AWS clients (set by the Lambda runtime itself).'),
    lambdaEndpoint: env('LAMBDA_ENDPOINT', anyUrl, none,
      'Lambda API endpoint, for a local emulator; unset: AWS.'),
    websocketEndpoint: env('WEBSOCKET_ENDPOINT', anyUrl, none,
      'Management API endpoint for WebSocket pushes; unset: derived from the event (AWS).'),
    ssmEndpoint: env('SSM_ENDPOINT', anyUrl, none,
      'SSM Parameter Store endpoint that aws-ssm: references are read from, for a local stand-in; unset: AWS.'),
    secretsManagerEndpoint: env('SECRETS_MANAGER_ENDPOINT', anyUrl, none,
      'Secrets Manager endpoint that aws-sm: references are read from, for a local stand-in; unset: AWS.'),
    jobFunctionName: env('JOB_FUNCTION_NAME', z.string(), (e) => `${e.SERVICE_NAME}-${e.STAGE}-jobRunner`,
      'The job function the worker invokes in lambda mode; unset: <SERVICE_NAME>-<STAGE>-jobRunner.'),
    jobFunctionTimeoutMs: env('JOB_FUNCTION_TIMEOUT_MS', int(1_000, 900_000), 120_000,
      "The job function's own timeout (serverless.yml); the invoke waits a little longer."),
  },
};
