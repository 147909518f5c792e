import fc from 'fast-check';
import { DateTime } from 'luxon';
import { effectiveStatus } from '../../lib/domain/session-packages/dto';
import { nextPeriod, renewalRequestReason } from '../../lib/domain/session-packages/renewal-policy';
import { lookbackStart, renewalHorizon, zonesAtLocalHour } from '../../lib/domain/session-packages/renewal-window';
import { DEFAULT_ZONE } from '../../lib/domain/tenancy/zone';

const DAY = 86_400_000;
const t = (d: Date) => d.getTime();

/** Instants from 2018 to 2030: São Paulo's last DST years included. */
const instant = fc.integer({ min: Date.UTC(2018, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms));
const ZONES = ['America/Sao_Paulo', 'America/Manaus', 'America/New_York', 'Europe/Lisbon', 'Asia/Tokyo', 'Pacific/Chatham', 'UTC'];
const zone = fc.constantFrom(...ZONES);
const days = fc.integer({ min: 0, max: 90 });
const localDate = (d: Date, z: string) => DateTime.fromJSDate(d, { zone: z }).toISODate();
const plusDays = (d: Date, z: string, n: number) => DateTime.fromJSDate(d, { zone: z }).plus({ days: n }).toISODate();

/** A package period: validFrom before validUntil, from an hour to a year and a half long. */
const period = fc
  .tuple(instant, fc.integer({ min: 3_600_000, max: 550 * DAY }))
  .map(([from, len]) => ({ validFrom: from, validUntil: new Date(t(from) + len) }));

describe('nextPeriod', () => {
  it('starts where an unfinished package ends, so early renewal leaves no gap and no overlap', () => {
    fc.assert(
      fc.property(period, fc.integer({ min: 1, max: 400 * DAY }), (old, aheadMs) => {
        const now = new Date(t(old.validUntil) - aheadMs);
        expect(t(nextPeriod(old, now).validFrom)).toBe(t(old.validUntil));
      }),
    );
  });

  it('starts now when the package already ended, never in the past', () => {
    fc.assert(
      fc.property(period, fc.integer({ min: 0, max: 400 * DAY }), (old, lateMs) => {
        const now = new Date(t(old.validUntil) + lateMs);
        expect(t(nextPeriod(old, now).validFrom)).toBe(t(now));
      }),
    );
  });

  it('lasts as long as the old period, and at least one day', () => {
    fc.assert(
      fc.property(period, instant, (old, now) => {
        const next = nextPeriod(old, now);
        expect(t(next.validUntil) - t(next.validFrom)).toBe(Math.max(t(old.validUntil) - t(old.validFrom), DAY));
        expect(t(next.validFrom)).toBeGreaterThanOrEqual(Math.max(t(now), t(old.validUntil)));
      }),
    );
  });
});

describe('renewalRequestReason', () => {
  it('opens a request for an exhausted package as exhausted and for an active one as expiring', () => {
    expect(renewalRequestReason('exhausted')).toBe('exhausted');
    expect(renewalRequestReason('active')).toBe('expiring');
  });

  it('opens none for a package renewed, expired or in any other state', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('renewed', 'expired', 'Active', 'EXHAUSTED', ''), fc.string()), (status) => {
        fc.pre(status !== 'active' && status !== 'exhausted');
        expect(renewalRequestReason(status)).toBeUndefined();
      }),
    );
  });
});

describe('renewal window', () => {
  it('the horizon is the first instant of the local day after today + N, so a package ending on that last day is in', () => {
    fc.assert(
      fc.property(instant, zone, days, (now, z, n) => {
        const horizon = renewalHorizon(now, z, n);
        expect(localDate(horizon, z)).toBe(plusDays(now, z, n + 1));
        expect(localDate(new Date(t(horizon) - 1), z)).toBe(plusDays(now, z, n));
        expect(t(horizon)).toBeGreaterThan(t(now));
      }),
    );
  });

  it('the lookback starts at the first instant of the local day N days before today, at or before now', () => {
    fc.assert(
      fc.property(instant, zone, days, (now, z, n) => {
        const since = lookbackStart(now, z, n);
        expect(localDate(since, z)).toBe(plusDays(now, z, -n));
        expect(localDate(new Date(t(since) - 1), z)).toBe(plusDays(now, z, -n - 1));
        expect(t(since)).toBeLessThanOrEqual(t(now));
      }),
    );
  });

  it('widens with N on both sides', () => {
    fc.assert(
      fc.property(instant, zone, days, (now, z, n) => {
        expect(t(renewalHorizon(now, z, n + 1))).toBeGreaterThan(t(renewalHorizon(now, z, n)));
        expect(t(lookbackStart(now, z, n + 1))).toBeLessThan(t(lookbackStart(now, z, n)));
      }),
    );
  });

  it('reads an unknown zone as the default one rather than failing the scan', () => {
    fc.assert(
      fc.property(instant, days, (now, n) => {
        expect(renewalHorizon(now, 'Not/AZone', n)).toEqual(renewalHorizon(now, DEFAULT_ZONE, n));
        expect(lookbackStart(now, 'Not/AZone', n)).toEqual(lookbackStart(now, DEFAULT_ZONE, n));
      }),
    );
  });

  it('gives each zone to exactly one of the 24 hourly passes, the one at its local hour', () => {
    fc.assert(
      fc.property(instant, fc.subarray(ZONES), (now, zones) => {
        const passes = Array.from({ length: 24 }, (_, hour) => zonesAtLocalHour(zones, now, hour));
        expect(passes.flat().sort()).toEqual([...zones].sort());
        passes.forEach((picked, hour) => {
          for (const z of picked) expect(DateTime.fromJSDate(now, { zone: z }).hour).toBe(hour);
        });
      }),
    );
  });
});

describe('effectiveStatus', () => {
  const STATUSES = ['active', 'exhausted', 'expired', 'renewed'];

  it('shows an active package expired from its end on, and changes no other status', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STATUSES), instant, fc.integer({ min: -30 * DAY, max: 30 * DAY }), (status, now, offset) => {
        const validUntil = new Date(t(now) + offset);
        const expected = status === 'active' && offset <= 0 ? 'expired' : status;
        expect(effectiveStatus({ status, validUntil }, now)).toBe(expected);
      }),
    );
  });

  it('counts a package as over from the instant it ends', () => {
    const now = new Date('2026-03-17T02:59:59.999Z');
    expect(effectiveStatus({ status: 'active', validUntil: now }, now)).toBe('expired');
    expect(effectiveStatus({ status: 'active', validUntil: new Date(t(now) + 1) }, now)).toBe('active');
  });
});
