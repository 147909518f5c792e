import { CRYPTO } from './crypto';
import { DATABASE } from './database';
import { JOBS } from './jobs';
import { QUEUES, REDIS } from './redis';
import { SERVICE } from './service';
import { WORKER } from './worker';

/**
 * Every variable the product reads, once, at its place in Config: the reader, the validation, the
 * error messages and the Config type all come from here, so a setting cannot be read under one
 * name and documented or typed under another.
 */
export const TABLE = {
  ...SERVICE,
  ...JOBS,
  db: DATABASE,
  redis: REDIS,
  queues: QUEUES,
  worker: WORKER,
  crypto: CRYPTO,
};

/** Settings no longer read: still set, they fail the configuration instead of being silently ignored. */
export const REMOVED_ENV: Readonly<Record<string, string>> = {
  RENEWAL_SCAN_TZ:
    'removed: the renewal pattern is read in UTC and fires every hour, and each pass scans the clinics whose own local hour ' +
    'is RENEWAL_SCAN_LOCAL_HOUR (default 3); unset RENEWAL_SCAN_TZ and set RENEWAL_SCAN_LOCAL_HOUR instead',
};
