import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';

/** Thrown when a connection that must be a session of its own turns out to go through a transaction pooler. */
export class PoolerDetectedError extends Error {
  constructor(evidence: string) {
    super(
      `Migrations need a direct connection, but this one goes through a transaction pooler (${evidence}). ` +
        'Set DIRECT_DATABASE_URL to the database itself (not PgBouncer or RDS Proxy); migrations use it when set.',
    );
    this.name = 'PoolerDetectedError';
  }
}

const ROUNDS = 3;
const PROBE_SQL = `SELECT pg_backend_pid() AS pid, current_setting('agenda.migrate_probe', true) AS probe`;

interface Seen {
  pid: number;
  probe: string | null;
}

/**
 * Proves that `main` is a session of its own, or throws PoolerDetectedError. `main` marks its
 * server session with a random session-level setting; `other` (a second connection to the same URL)
 * then looks at its own server session, and `main` looks again. A transaction pooler hands the server
 * connection `main` just released to the next client (PgBouncer: last in, first out), so `other`
 * lands on it and sees the mark or the same backend pid; under load `main` lands on another server
 * connection instead. Neither can happen on a direct connection (or a session pooler), so a direct
 * connection is never refused.
 */
export async function assertOwnSession(main: Client, other: Client): Promise<void> {
  const token = randomUUID();
  const { rows } = await main.query<Seen>(
    `SELECT pg_backend_pid() AS pid, set_config('agenda.migrate_probe', $1, false) AS probe`,
    [token],
  );
  const mine = rows[0]!;
  for (let round = 0; round < ROUNDS; round += 1) {
    const theirs = (await other.query<Seen>(PROBE_SQL)).rows[0]!;
    if (theirs.pid === mine.pid || theirs.probe === token) {
      throw new PoolerDetectedError('a second connection was handed the same server session');
    }
    const again = (await main.query<Seen>(PROBE_SQL)).rows[0]!;
    if (again.pid !== mine.pid || again.probe !== token) {
      throw new PoolerDetectedError('the connection changed server session between two statements');
    }
  }
}
