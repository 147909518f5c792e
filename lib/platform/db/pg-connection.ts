import type { ClientConfig } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';

/**
 * A PostgreSQL URL as pg's connection settings. With sslmode=verify-full the certificate check is
 * written out (`ssl.rejectUnauthorized: true`, the host name checked against the certificate)
 * instead of left to Node's default, so no environment (PGSSLMODE) or later pg reading of the mode
 * can weaken it; production requires that mode (lib/platform/config/production.ts). Any other URL
 * goes to pg as it is. Spread after the caller's own options: what the URL says wins, as before.
 */
export function pgConnection(url: string): ClientConfig {
  if (new URL(url).searchParams.get('sslmode') !== 'verify-full') return { connectionString: url };
  const config = parseIntoClientConfig(url);
  return { ...config, ssl: { ...(typeof config.ssl === 'object' ? config.ssl : {}), rejectUnauthorized: true } };
}
