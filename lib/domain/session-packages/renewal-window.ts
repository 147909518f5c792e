import { localTime } from '../tenancy/zone';

/**
 * The first instant after the last local day that counts as "within `days` days" of `now` in
 * `zone`: a control ends within N days when its local end date is at most today + N (local dates).
 */
export function renewalHorizon(now: Date, zone: string, days: number): Date {
  return localTime(now, zone).startOf('day').plus({ days: days + 1 }).toJSDate();
}

/**
 * Start of the local day `days` days before today in `zone`: an end (or running out) at or after
 * it happened "within the last `days` days", so the scan still acts on it; anything earlier is old
 * history that a clinic would not expect to see renewed on the next pass.
 */
export function lookbackStart(now: Date, zone: string, days: number): Date {
  return localTime(now, zone).startOf('day').minus({ days }).toJSDate();
}

/** The zones (as stored) whose local hour is `hour` at `now`: the clinics one hourly pass is for. */
export function zonesAtLocalHour(zones: readonly string[], now: Date, hour: number): string[] {
  return zones.filter((zone) => localTime(now, zone).hour === hour);
}
