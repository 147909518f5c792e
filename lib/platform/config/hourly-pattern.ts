/**
 * Whether a cron pattern (5 fields, or 6 with seconds first) fires once in every hour: a single
 * minute (and second), `*` for hour, day of month, month and day of week. The renewal scan needs
 * every hour: each pass scans only the clinics whose local hour is RENEWAL_SCAN_LOCAL_HOUR, so an
 * hour without a pass is a set of zones never scanned. Read from the fields, not by computing
 * occurrences: no cron parser is a direct dependency.
 */
export function isHourlyPattern(pattern: string): boolean {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return false;
  const minuteAndSecond = fields.slice(0, -4);
  return minuteAndSecond.every((f) => /^\d{1,2}$/.test(f) && Number(f) < 60) && fields.slice(-4).every((f) => f === '*');
}
