import { Client } from 'pg';
import { pgConnection } from './pg-connection';

/**
 * Creates the database of `databaseUrl` when it does not exist (local development, tests), through
 * the server's `postgres` database. Safe when several runners start at once.
 */
export async function ensureDatabase(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ application_name: 'agenda-migrate', ...pgConnection(url.toString()) });
  admin.on('error', (err) => log(`connection error: ${err.message}`));
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      const created = await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).then(
        () => true,
        (err: { code?: string }) => {
          // Created concurrently: 42P04 when the other CREATE committed before ours started, 23505 (on
          // pg_database_datname_index) when the two raced; either way the database now exists.
          if (err.code !== '42P04' && err.code !== '23505') throw err;
          return false;
        },
      );
      if (created) log(`created database ${name}`);
    }
  } finally {
    await admin.end();
  }
}
