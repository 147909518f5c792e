import { RETENTION_DAYS, type RetentionKey } from './policy';

/**
 * One retention rule: a single SQL statement that deletes or strips at most `$1` rows past their
 * clinic's setting for `key`. The purge (./purge.ts) runs it again while it fills its batch, within
 * a bound per run. A table added later gets its own rule here.
 */
export interface RetentionRule {
  /** Names the rule in the job's result and log line. */
  name: string;
  /** The clinic setting that dates the rows. */
  key: RetentionKey;
  action: 'delete' | 'strip';
  /** Rows per statement: small enough that no statement holds its locks for long. */
  batch: number;
  /** The statement; `$1` is the batch. */
  sql: string;
  /** How the rows it touched are counted: the statement's row count, or the one value it selects (a function's answer). */
  counted?: 'rowCount' | 'result';
}

/**
 * The moment before which a row of clinic `c` is past its retention: the clinic's own setting when
 * it is a number, else the default, clamped to the bounds here too (a value written around the API
 * can never purge sooner than the minimum). Keys and numbers are the code's constants, inlined.
 */
export function cutoff(key: RetentionKey): string {
  if (!/^[A-Za-z]+$/.test(key)) throw new Error(`retention key ${key} is not a plain name`);
  const { default: d, min, max } = RETENTION_DAYS[key];
  const chosen = `CASE WHEN jsonb_typeof(c.retention->'${key}') = 'number' THEN round((c.retention->>'${key}')::numeric) END`;
  return `(now() - make_interval(days => LEAST(GREATEST(COALESCE(${chosen}, ${d}), ${min}), ${max})::int))`;
}

/**
 * What a rule does to the rows it picks: delete them, SET some columns to null, or hand their ids to
 * a database function that deletes them (an append-only table lets only that function delete).
 */
type Verb = { delete: true } | { set: string } | { call: string };

function statement(verb: Verb, table: string, pick: string): string {
  if ('call' in verb) return `SELECT ${verb.call}(ARRAY(${pick})) AS n`;
  return 'set' in verb ? `UPDATE ${table} SET ${verb.set} WHERE id IN (${pick})` : `DELETE FROM ${table} WHERE id IN (${pick})`;
}

/** The per-clinic (or per-endpoint) subquery: its own LIMIT, oldest first when `order` is given, rows locked SKIP LOCKED. */
const lateral = (select: string, where: string, alias: string, order?: string) =>
  `CROSS JOIN LATERAL (${select} WHERE ${where} ${order ? `ORDER BY ${order}` : ''} LIMIT $1::int FOR UPDATE OF ${alias} SKIP LOCKED) x LIMIT $1::int`;

/**
 * A statement over a table with a `clinic_id`: each clinic's rows are read through a lateral
 * subquery (one index range per clinic, on the clinic's own cutoff), locked with SKIP LOCKED so two
 * workers purging at once take different rows and never wait on each other.
 */
export function perClinic(verb: Verb, table: string, alias: string, where: string, order?: string): string {
  const sub = lateral(`SELECT ${alias}.id FROM ${table} ${alias}`, `${alias}.clinic_id = c.id AND ${where}`, alias, order);
  return statement(verb, table, `SELECT x.id FROM clinics c ${sub}`);
}

/** The same through a clinic's webhook endpoints (deliveries and attempts carry no clinic id; `d` is the delivery). */
function perEndpoint(verb: Verb, table: string, from: string, alias: string, where: string, order?: string): string {
  const sub = lateral(`SELECT ${alias}.id FROM ${from}`, `d.endpoint_id = e.id AND ${where}`, alias, order);
  return statement(verb, table, `SELECT x.id FROM clinics c JOIN webhook_endpoints e ON e.clinic_id = c.id ${sub}`);
}

/** Deletes the rows a rule picks. */
export const DELETE: Verb = { delete: true };

/** Every rule, in the order a run applies them (job history is trimmed beside them, in Redis). */
export const RETENTION_RULES: RetentionRule[] = [
  {
    name: 'outbox_events', key: 'outboxEventsDays', action: 'delete', batch: 1_000,
    sql: perClinic(DELETE, 'outbox_events', 'o', `o.processed_at IS NOT NULL AND o.created_at < ${cutoff('outboxEventsDays')}`, 'o.created_at'),
  },
  {
    name: 'webhook_attempt_details', key: 'webhookAttemptDetailsDays', action: 'strip', batch: 1_000,
    sql: perEndpoint({ set: 'response_excerpt = NULL, error = NULL' }, 'webhook_attempts', 'webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id', 'a',
      `d.created_at < ${cutoff('webhookAttemptDetailsDays')} AND a.created_at < ${cutoff('webhookAttemptDetailsDays')} AND (a.response_excerpt IS NOT NULL OR a.error IS NOT NULL)`),
  },
  {
    // Attempts go with their delivery (ON DELETE CASCADE): up to 8 each, hence the smaller batch.
    name: 'webhook_deliveries', key: 'webhookDeliveriesDays', action: 'delete', batch: 250,
    sql: perEndpoint(DELETE, 'webhook_deliveries', 'webhook_deliveries d', 'd',
      `d.status <> 'pending' AND d.created_at < ${cutoff('webhookDeliveriesDays')}`, 'd.created_at'),
  },
  {
    name: 'notification_errors', key: 'notificationErrorsDays', action: 'strip', batch: 1_000,
    sql: perClinic({ set: 'last_error = NULL' }, 'notifications', 'n', `n.last_error IS NOT NULL AND n.created_at < ${cutoff('notificationErrorsDays')}`),
  },
  {
    name: 'notifications', key: 'notificationsDays', action: 'delete', batch: 1_000,
    sql: perClinic(DELETE, 'notifications', 'n', `n.status <> 'pending' AND n.created_at < ${cutoff('notificationsDays')}`, 'n.created_at'),
  },
  {
    // Append-only: only purge_audit_events() (the migration) may delete, and says how many it did.
    name: 'audit_events', key: 'auditEventsDays', action: 'delete', batch: 1_000, counted: 'result',
    sql: perClinic({ call: 'purge_audit_events' }, 'audit_events', 'a', `a.at < ${cutoff('auditEventsDays')}`, 'a.at'),
  },
];
