import { DateTime } from 'luxon';

/** A clinic's zone when none is given, and where clinics are: the product is built for Brazil. */
export const DEFAULT_ZONE = 'America/Sao_Paulo';

/**
 * An instant as a clinic sees it. A stored zone the runtime does not know (zones are checked when a
 * clinic is created, but tz data changes) falls back to the default rather than failing the work.
 */
export function localTime(at: Date, zone: string): DateTime {
  const local = DateTime.fromJSDate(at, { zone });
  return local.isValid ? local : DateTime.fromJSDate(at, { zone: DEFAULT_ZONE });
}
