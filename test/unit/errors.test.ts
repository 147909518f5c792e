import { ConfigError } from '../../lib/platform/config';
import { isConnectionLost, isExclusionViolation, isForeignKeyViolation, isStartupParameterRefused, isUniqueViolation, isUnreachable, mapDbError } from '../../lib/platform/db/errors';
import { DependencyUnavailableError, NotFoundError, TimeoutError, ValidationError } from '../../lib/platform/errors/app-error';
import { describeError } from '../../lib/platform/errors/describe';

const db = { connectTimeoutMs: 500, poolMax: 2, statementTimeoutMs: 3000 };
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
};

describe('describeError', () => {
  it('maps typed errors to their status, code and details', () => {
    expect(describeError(new ValidationError('Invalid body', [{ field: 'queue', problem: 'x' }]))).toEqual({
      status: 400,
      code: 'validation_failed',
      message: 'Invalid body',
      details: [{ field: 'queue', problem: 'x' }],
    });
    expect(describeError(new NotFoundError('gone'))).toMatchObject({ status: 404, code: 'not_found' });
    expect(describeError(new TimeoutError('slow'))).toEqual({ status: 504, code: 'timeout', message: 'slow' });
  });

  it('asks for a retry only when a dependency is down', () => {
    expect(describeError(new DependencyUnavailableError('redis', 'down'))).toMatchObject({ status: 503, retryAfter: 5, details: { dependency: 'redis' } });
    expect(describeError(new TimeoutError('slow')).retryAfter).toBeUndefined();
  });

  it('treats a Redis link failure that escaped a service as a 503, not a 500', () => {
    expect(describeError(new Error('Command timed out'))).toMatchObject({ status: 503, details: { dependency: 'redis' } });
    expect(describeError(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toMatchObject({ status: 503 });
  });

  it('hides internals of unknown errors and of an invalid configuration', () => {
    expect(describeError(new Error('secret stack detail'))).toEqual({ status: 500, code: 'internal_error', message: 'Internal server error' });
    expect(describeError(new ConfigError(['DATABASE_URL: Invalid URL']))).toEqual({
      status: 500,
      code: 'configuration_invalid',
      message: 'The service is misconfigured',
    });
  });
});

describe('database error mapping', () => {
  it('an exhausted pool is a 503 naming the bound', () => {
    const err = thrown(() => mapDbError(new Error('timeout exceeded when trying to connect'), db));
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(err.message).toBe('Database busy: no connection became free within 500 ms (pool max 2)');
  });

  it('a statement timeout is a 504, found through the cause chain', () => {
    const driver = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    const err = thrown(() => mapDbError(new Error('wrapped', { cause: driver }), db));
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it('a connect timeout or refused connection is "unreachable", not a lost connection', () => {
    const timeout = new Error('Connection terminated due to connection timeout');
    expect(isUnreachable(timeout)).toBe(true);
    expect(isConnectionLost(timeout)).toBe(false);
    expect(thrown(() => mapDbError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), db)).message).toBe(
      'Database unreachable',
    );
  });

  it("PgBouncer's own refusals (no server behind it, client limit, no server free in time) are 503s", () => {
    for (const message of [
      'pgbouncer cannot connect to server',
      'no more connections allowed (max_client_conn)',
      'query_wait_timeout',
    ]) {
      const err = thrown(() => mapDbError(new Error(message), db));
      expect({ message, mapped: err.message, is503: err instanceof DependencyUnavailableError }).toEqual({ message, mapped: 'Database unreachable', is503: true });
    }
  });

  it('a refused startup parameter (a pooler given the direct pool) is told apart', () => {
    expect(isStartupParameterRefused(new Error('unsupported startup parameter: statement_timeout'))).toBe(true);
    expect(isStartupParameterRefused(new Error('connect ECONNREFUSED 127.0.0.1:6432'))).toBe(false);
  });

  it('a connection dropped under a query is "lost"; query errors pass through', () => {
    expect(thrown(() => mapDbError(new Error('Connection terminated unexpectedly'), db)).message).toBe('Database connection lost');
    const unique = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
    expect(thrown(() => mapDbError(unique, db))).toBe(unique);
  });

  it("a transaction's bounds (Prisma P2028): no connection to start it is a 503, running too long a 504", () => {
    const noConnection = Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' });
    expect(thrown(() => mapDbError(noConnection, db)).message).toBe('Database busy: no connection became free within 500 ms (pool max 2)');
    const tooLong = Object.assign(new Error('Transaction already closed: the timeout for this transaction was 3000 ms'), { code: 'P2028' });
    expect(thrown(() => mapDbError(tooLong, db))).toBeInstanceOf(TimeoutError);
  });

  it('constraint violations are recognised as Prisma or the driver reports them, behind the adapter', () => {
    const uniqueDriver = { kind: 'UniqueConstraintViolation', originalCode: '23505' };
    expect(isUniqueViolation(Object.assign(new Error('x'), { code: 'P2002' }))).toBe(true);
    expect(isUniqueViolation(Object.assign(new Error('wrapped'), { meta: { driverAdapterError: uniqueDriver } }))).toBe(true);
    expect(isForeignKeyViolation(Object.assign(new Error('x'), { cause: { code: '23503' } }))).toBe(true);
    expect(isForeignKeyViolation(Object.assign(new Error('x'), { code: 'P2002' }))).toBe(false);
    expect(isUniqueViolation(new Error('Connection terminated'))).toBe(false);
  });

  it('a value PostgreSQL cannot store (SQLSTATE class 22) is bad input, not a server fault', () => {
    const driver = Object.assign(new Error('date/time field value out of range: "0000-01-01"'), { code: '22008' });
    expect(thrown(() => mapDbError(new Error('wrapped', { cause: driver }), db))).toBeInstanceOf(ValidationError);
  });

  it("finds the driver's error where Prisma keeps it (meta.driverAdapterError), as well as in the cause chain", () => {
    const prismaError = Object.assign(new Error('Invalid `prisma.appointment.create()` invocation'), {
      meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '23P01', constraint: 'appointments_no_overlap' } } },
    });
    expect(isExclusionViolation(prismaError, 'appointments_no_overlap')).toBe(true);
    expect(isExclusionViolation(new Error('duplicate key'), 'appointments_no_overlap')).toBe(false);
  });
});
