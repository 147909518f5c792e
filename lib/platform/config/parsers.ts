import { z } from 'zod';

/**
 * Bounded, so a typo (an extra zero, seconds for milliseconds) fails at start-up instead of in
 * production; one message for every way to miss, since the range is what the reader needs.
 */
export function int(min: number, max: number) {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** Only the four spellings people use: anything else (`yes`, `on`) is more likely a mistake than a wish. */
export const bool = z.enum(['true', 'false', '1', '0'], { error: 'expected true, false, 1 or 0' }).transform((v) => v === 'true' || v === '1');

/** URLs of one kind of server, so a Redis URL in DATABASE_URL fails here, not at the first query. */
export const url = (protocol: RegExp, kind: string) => z.url({ protocol, error: `expected a URL starting ${kind}` });
export const postgresUrl = url(/^postgres(ql)?$/, 'postgres:// or postgresql://');
export const anyUrl = z.url({ error: 'expected a URL' });

/**
 * Characters safe in a Redis key and a log line alike, plus at most one Redis Cluster hash tag
 * (`{agenda}`): on a cluster only the tag is hashed, so every key under the prefix shares a slot.
 */
export const keyPrefix = z
  .string()
  .regex(/^[A-Za-z0-9_:-]*(\{[A-Za-z0-9_:-]+\})?[A-Za-z0-9_:-]*$/, {
    error: 'expected letters, digits, _, : or - only, with at most one non-empty {hash tag}',
  })
  .min(1, { error: 'expected a non-empty prefix' });

/** The hash tag of a prefix `keyPrefix` accepted (`{agenda}` -> `agenda`), if it has one. */
export const hashTagOf = (prefix: string): string | undefined => /\{([^{}]+)\}/.exec(prefix)?.[1];

/** One Redis server (`rediss://` for TLS). */
export const redisUrl = url(/^rediss?$/, 'redis:// or rediss://');

/** Comma-separated node URLs of one scheme: TLS is a property of the cluster, not of one node. */
export const redisNodeUrls = z
  .string()
  .transform((s) => s.split(',').map((u) => u.trim()).filter((u) => u !== ''))
  .pipe(z.array(redisUrl).min(1, { error: 'expected at least one node URL' }))
  // Counts redis schemes only: another scheme already has its own issue.
  .refine((urls) => new Set(urls.map((u) => (URL.canParse(u) ? new URL(u).protocol : '')).filter((p) => /^rediss?:$/.test(p))).size <= 1, {
    error: 'expected every node URL with the same scheme (all redis:// or all rediss://)',
  });
