import Redis from 'ioredis';
import { Client } from 'pg';

/** Connection counters as the servers themselves report them. */
export interface ServerCounters {
  /** `pg_stat_database.sessions` of the current database: sessions established since stats reset. */
  pgSessions: number;
  /** `INFO stats` `total_connections_received`: connections the Redis server accepted since start. */
  redisConnections: number;
}

/**
 * Measuring instrument, not product code: one `pg` Client and one ioredis client opened once, before
 * any baseline is read, so their own two connections fall outside every before/after delta and
 * nothing has to be subtracted. Their queries (SELECT, INFO) open no connections.
 */
export class ServerMonitor {
  private constructor(
    private readonly pg: Client,
    private readonly redis: Redis,
  ) {}

  static async open(databaseUrl: string, redisUrl: string): Promise<ServerMonitor> {
    const pg = new Client({ connectionString: databaseUrl, application_name: 'agenda-bench-monitor' });
    await pg.connect();
    const redis = new Redis(redisUrl, { lazyConnect: true, connectionName: 'agenda-bench-monitor', maxRetriesPerRequest: 1 });
    await redis.connect().catch(async (err: unknown) => {
      await pg.end();
      throw err;
    });
    return new ServerMonitor(pg, redis);
  }

  async read(): Promise<ServerCounters> {
    const [pg, info] = await Promise.all([
      this.pg.query<{ sessions: string | null }>(
        'SELECT sessions FROM pg_stat_database WHERE datname = current_database()',
      ),
      this.redis.info('stats'),
    ]);
    const sessions = pg.rows[0]?.sessions;
    const received = /^total_connections_received:(\d+)/m.exec(info)?.[1];
    if (sessions == null) throw new Error('pg_stat_database.sessions unavailable (PostgreSQL 14+ is needed)');
    if (received === undefined) throw new Error('Redis INFO stats has no total_connections_received');
    return { pgSessions: Number(sessions), redisConnections: Number(received) };
  }

  /**
   * Waits until no backend named `applicationName` is left. A backend flushes its session count
   * before it leaves pg_stat_activity, so after this a reading includes every session it opened.
   */
  async settle(applicationName: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.pg.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      if ((rows[0]?.n ?? 0) === 0) return;
      if (Date.now() > deadline) throw new Error(`${applicationName} backends still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async serverVersions(): Promise<{ postgres: string; redis: string }> {
    const { rows } = await this.pg.query<{ server_version: string }>('SHOW server_version');
    const info = await this.redis.info('server');
    return {
      postgres: rows[0]?.server_version ?? 'unknown',
      redis: /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown',
    };
  }

  /** The monitor's Redis client, for setting up and removing bench fixtures. */
  get redisClient(): Redis {
    return this.redis;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.pg.end(), this.redis.quit()]);
  }
}
