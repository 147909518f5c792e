import { DependencyUnavailableError, TimeoutError, ValidationError } from '../errors/app-error';

/**
 * Recognises errors that mean "this connection is gone" rather than "this query is wrong".
 * Prisma wraps driver errors, so the whole `cause` chain and the messages are inspected.
 */
const CONNECTION_LOST = [
  /Connection terminated/i,
  /terminating connection due to administrator command/i,
  /Client has encountered a connection error and is not queryable/i,
  /Connection is closed/i,
  /Server has closed the connection/i,
  /\bECONNRESET\b/,
  /\bEPIPE\b/,
  /\bConnectionClosed\b/,
  /\bSocketTimeout\b/,
  /Query read timeout/i,
];

const POOL_EXHAUSTED = /timeout exceeded when trying to connect/i;
const TX_START_TIMEOUT = /start a transaction/i;
// pg-pool's bound on opening a new connection; its message would otherwise read as "lost".
const CONNECT_TIMEOUT = /Connection terminated due to connection timeout/i;
const UNREACHABLE = [
  /\bECONNREFUSED\b/, /\bENOTFOUND\b/, /\bEHOSTUNREACH\b/, /DatabaseNotReachable/, /\b57P03\b/,
  // PgBouncer: no server connection behind it, its client limit reached, no server free in time.
  /pgbouncer cannot connect to server/i, /no more connections allowed \(max_client_conn\)/i, /\bquery_wait_timeout\b/,
];
const STARTUP_PARAMETER_REFUSED = /unsupported startup parameter/i;

/**
 * Every error behind `err`: its `cause` chain and, for Prisma's known-request errors, the driver
 * error Prisma keeps under `meta.driverAdapterError` (walked breadth-first, each object once).
 */
function* chain(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const current = queue.shift();
    if (!current || seen.has(current)) continue;
    seen.add(current);
    yield current;
    if (typeof current !== 'object') continue;
    const o = current as { cause?: unknown; driverAdapterError?: unknown; meta?: { driverAdapterError?: unknown } };
    queue.push(o.cause, o.driverAdapterError, o.meta?.driverAdapterError);
  }
}

function texts(err: unknown): string[] {
  const out: string[] = [];
  for (const e of chain(err)) {
    if (typeof e === 'string') out.push(e);
    else if (typeof e === 'object' && e) {
      const o = e as Record<string, unknown>;
      for (const k of ['message', 'code', 'kind', 'originalMessage', 'originalCode', 'constraint']) {
        if (typeof o[k] === 'string') out.push(o[k] as string);
      }
    }
  }
  return out;
}

/** True when PostgreSQL refused the row with the named exclusion constraint (SQLSTATE 23P01). */
export function isExclusionViolation(err: unknown, constraint: string): boolean {
  return texts(err).some((t) => t === '23P01' || t.includes(constraint));
}

/** True when a unique constraint refused the row (SQLSTATE 23505; Prisma P2002). */
export function isUniqueViolation(err: unknown): boolean {
  return texts(err).some((t) => t === '23505' || t === 'P2002' || /Unique constraint failed/i.test(t));
}

/** True when a foreign key refused the change: a row still points here (SQLSTATE 23503; Prisma P2003). */
export function isForeignKeyViolation(err: unknown): boolean {
  return texts(err).some((t) => t === '23503' || t === 'P2003' || /foreign key constraint/i.test(t));
}

/** True when the failure lies in the connection itself, so a read on a fresh connection may succeed. */
export function isConnectionLost(err: unknown): boolean {
  if (isUnreachable(err)) return false;
  return texts(err).some((t) => CONNECTION_LOST.some((re) => re.test(t)) || t === '57P01');
}

/** Prisma's bounds on an interactive transaction (P2028): no connection in time to start it, or it ran too long. */
export function isTransactionBoundError(err: unknown): boolean {
  return texts(err).includes('P2028');
}

/** True when every pooled connection was busy for the whole connection timeout (a query's or a transaction's). */
export function isPoolExhausted(err: unknown): boolean {
  const t = texts(err);
  return t.some((s) => POOL_EXHAUSTED.test(s)) || (t.includes('P2028') && t.some((s) => TX_START_TIMEOUT.test(s)));
}

/** SQLSTATE class 22 (data exception: a date or number out of range): the input was bad. */
export function isDataException(err: unknown): boolean {
  return texts(err).some((t) => /^22[0-9A-Z]{3}$/.test(t) || /(date\/time field value|time zone displacement) out of range/i.test(t));
}

/** True when PostgreSQL cancelled the statement for running past statement_timeout (57014). */
export function isStatementTimeout(err: unknown): boolean {
  return texts(err).some((t) => t === '57014' || /canceling statement due to statement timeout/i.test(t));
}

/**
 * True when the server refused a startup parameter: a transaction pooler (PgBouncer) given the
 * timeouts a direct pool sends at connect (DB_POOLER=transaction leaves them out).
 */
export function isStartupParameterRefused(err: unknown): boolean {
  return texts(err).some((t) => STARTUP_PARAMETER_REFUSED.test(t));
}

/** True when PostgreSQL cannot be reached at all (down, wrong host, starting up). */
export function isUnreachable(err: unknown): boolean {
  return texts(err).some((t) => CONNECT_TIMEOUT.test(t) || UNREACHABLE.some((re) => re.test(t)));
}

/**
 * Turns infrastructure failures into typed errors (503 for the database being unavailable, 504
 * for a statement past its timeout); query errors (constraints, not found) pass through unchanged.
 */
export function mapDbError(err: unknown, db: { connectTimeoutMs: number; poolMax: number; statementTimeoutMs: number }): never {
  if (isPoolExhausted(err)) {
    throw new DependencyUnavailableError(
      'database',
      `Database busy: no connection became free within ${db.connectTimeoutMs} ms (pool max ${db.poolMax})`,
      { cause: err },
    );
  }
  if (isStatementTimeout(err)) {
    throw new TimeoutError(`Database query exceeded the ${db.statementTimeoutMs} ms statement timeout`, undefined, { cause: err });
  }
  if (isTransactionBoundError(err)) {
    throw new TimeoutError(`Database transaction exceeded ${db.statementTimeoutMs} ms`, undefined, { cause: err });
  }
  if (isDataException(err)) {
    throw new ValidationError('A value is outside what the database can store', [{ field: 'body', problem: 'value out of range' }], { cause: err });
  }
  if (isUnreachable(err)) throw new DependencyUnavailableError('database', 'Database unreachable', { cause: err });
  if (isConnectionLost(err)) throw new DependencyUnavailableError('database', 'Database connection lost', { cause: err });
  throw err;
}
