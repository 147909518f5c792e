/**
 * Every setting the product reads (lib/platform/config/schema.ts) reaches the Lambda functions through
 * serverless.yml, or is listed here with the reason it need not: a setting the job Lambda's
 * processors read but the deployment never passes would run with its default in Lambda mode and
 * with the configured value in the worker container, silently differently.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { envSchema } from '../../lib/platform/config/schema';

const NOT_PASSED: Record<string, string> = {
  DIRECT_DATABASE_URL: 'read by migrations only: the migrate function sets it in its own environment (the deploy step), npm run db:migrate locally',
  DB_POOL_MAX: 'profile default (lib/platform/config/profiles.ts); set per function where one needs another',
  DB_POOL_MIN: 'profile default',
  DB_CONNECT_TIMEOUT_MS: 'profile default; the job Lambda sets its own',
  DB_STATEMENT_TIMEOUT_MS: 'profile default; the job Lambda sets its own',
  DB_IDLE_IN_TX_TIMEOUT_MS: 'profile default; the job Lambda sets its own',
  DB_IDLE_TIMEOUT_MS: 'profile default',
  DB_MAX_LIFETIME_S: 'profile default',
  DB_STARTUP_ATTEMPTS: 'profile default',
  DB_STARTUP_BASE_DELAY_MS: 'profile default',
  REDIS_CONNECT_TIMEOUT_MS: 'profile default',
  REDIS_COMMAND_TIMEOUT_MS: 'profile default',
  REDIS_READY_TIMEOUT_MS: 'profile default',
  REDIS_MAX_RECONNECT_DELAY_MS: 'profile default',
  REDIS_RECONNECT_ATTEMPTS: 'profile default',
  REDIS_DOWN_RETRY_AFTER_MS: 'profile default',
  REDIS_OFFLINE_QUEUE: 'profile default',
  HEALTH_CHECK_TIMEOUT_MS: 'bounded below API Gateway\'s limit by default',
  QUEUE_CONNECT_ATTEMPTS: 'profile default',
  AWS_REGION: 'set by the Lambda runtime itself',
  JOB_FUNCTION_NAME: 'read by the worker container, which invokes the job Lambda',
  JOB_FUNCTION_TIMEOUT_MS: 'read by the worker container',
  RATE_LIMIT_KEY_PREFIX: 'fixed per deployment by default',
  AGENDA_RESERVED_CONCURRENCY: 'set per function, beside its reservedConcurrency (test/unit/functions.test.ts)',
  SSM_ENDPOINT: 'a local stand-in for tests; unset in a deployment, the SDK reaches SSM itself',
  SECRETS_MANAGER_ENDPOINT: 'a local stand-in for tests; unset in a deployment, the SDK reaches Secrets Manager itself',
  KMS_ENDPOINT: 'a local stand-in for tests; unset in a deployment, the SDK reaches KMS itself',
};
/** Settings of the worker container alone: consumers, schedulers, dashboard. */
const WORKER_ONLY = /^(WORKER_|DASHBOARD_|RENEWAL_SCAN_)|_EVERY_MS$/;

const yml = load(readFileSync(path.join(__dirname, '..', '..', 'serverless.yml'), 'utf8')) as {
  provider: { environment: Record<string, unknown> };
};
const passed = new Set(Object.keys(yml.provider.environment));

it.each(Object.keys(envSchema.shape))('%s reaches the functions, or says why not', (name) => {
  const reason = NOT_PASSED[name] ?? (WORKER_ONLY.test(name) ? 'worker container only' : undefined);
  // Passed and also excused: the excuse is stale. Neither: the deployment forgets it.
  expect({ name, passed: passed.has(name), excused: reason !== undefined }).toEqual({ name, passed: !reason, excused: !!reason });
});

it('lists no setting that does not exist', () => {
  expect(Object.keys(NOT_PASSED).filter((n) => !(n in envSchema.shape))).toEqual([]);
});
