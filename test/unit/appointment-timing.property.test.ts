import fc from 'fast-check';
import { overlapAsConflict, refusingOverlap } from '../../lib/domain/appointments/overlap';
import { addMinutes, assertFuture, blockedRange, minutesBetween } from '../../lib/domain/appointments/timing';
import { computeSlots } from '../../lib/domain/availability/slots';
import { ConflictError, RuleViolationError } from '../../lib/platform/errors/app-error';

const MIN = 60_000;
const t = (d: Date) => d.getTime();

/** Whole-minute instants between 2020 and 2040, as the API stores them. */
const instant = fc.integer({ min: Date.UTC(2020, 0, 1) / MIN, max: Date.UTC(2040, 0, 1) / MIN }).map((m) => new Date(m * MIN));
const duration = fc.integer({ min: 5, max: 480 });
const buffer = fc.integer({ min: 0, max: 240 });
const buffers = fc.record({ bufferBeforeMinutes: buffer, bufferAfterMinutes: buffer });

describe('blockedRange', () => {
  it('contains the appointment and is as long as the duration plus both buffers', () => {
    fc.assert(
      fc.property(instant, duration, buffers, (startsAt, minutes, b) => {
        const endsAt = addMinutes(startsAt, minutes);
        const { blockStartsAt, blockEndsAt } = blockedRange(startsAt, endsAt, b);
        expect(t(blockStartsAt)).toBeLessThanOrEqual(t(startsAt));
        expect(t(endsAt)).toBeLessThanOrEqual(t(blockEndsAt));
        expect(t(blockEndsAt) - t(blockStartsAt)).toBe((minutes + b.bufferBeforeMinutes + b.bufferAfterMinutes) * MIN);
      }),
    );
  });

  it('puts the buffer before ahead of the start and the buffer after behind the end, never the other way', () => {
    fc.assert(
      fc.property(instant, duration, buffers, (startsAt, minutes, b) => {
        const endsAt = addMinutes(startsAt, minutes);
        const r = blockedRange(startsAt, endsAt, b);
        expect(t(startsAt) - t(r.blockStartsAt)).toBe(b.bufferBeforeMinutes * MIN);
        expect(t(r.blockEndsAt) - t(endsAt)).toBe(b.bufferAfterMinutes * MIN);
      }),
    );
  });

  it('is the appointment itself when the professional keeps no buffers', () => {
    fc.assert(
      fc.property(instant, duration, (startsAt, minutes) => {
        const endsAt = addMinutes(startsAt, minutes);
        expect(blockedRange(startsAt, endsAt, { bufferBeforeMinutes: 0, bufferAfterMinutes: 0 })).toEqual({ blockStartsAt: startsAt, blockEndsAt: endsAt });
      }),
    );
  });

  it('leaves the appointment times it was given alone', () => {
    const startsAt = new Date('2026-03-02T12:00:00Z');
    const endsAt = new Date('2026-03-02T12:50:00Z');
    blockedRange(startsAt, endsAt, { bufferBeforeMinutes: 10, bufferAfterMinutes: 15 });
    expect([startsAt.toISOString(), endsAt.toISOString()]).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T12:50:00.000Z']);
  });

  it('blocks what the slot engine then stops offering: a booked slot and its buffers are gone, nothing offered meets them', () => {
    // Mondays 08:00-18:00 in São Paulo (no DST since 2019), week of 2026-03-02.
    const hours = [{ weekday: 1, startMinute: 8 * 60, endMinute: 18 * 60 }];
    const from = new Date('2026-03-02T03:00:00Z');
    const to = new Date('2026-03-03T03:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 15, max: 90 }), buffers.map((b) => ({ bufferBeforeMinutes: b.bufferBeforeMinutes % 45, bufferAfterMinutes: b.bufferAfterMinutes % 45 })), fc.nat(), (minutes, b, pick) => {
        const q = { zone: 'America/Sao_Paulo', hours, timeOff: [], durationMinutes: minutes, ...b, stepMinutes: 15, from, to };
        const before = computeSlots({ ...q, busy: [] });
        fc.pre(before.length > 0);
        const booked = before[pick % before.length]!;
        const { blockStartsAt, blockEndsAt } = blockedRange(booked.start, booked.end, b);
        const after = computeSlots({ ...q, busy: [{ start: blockStartsAt, end: blockEndsAt }] });
        expect(after.map((s) => t(s.start))).not.toContain(t(booked.start));
        for (const s of after) {
          const other = blockedRange(s.start, s.end, b);
          expect(t(other.blockStartsAt) < t(blockEndsAt) && t(blockStartsAt) < t(other.blockEndsAt)).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('appointment time arithmetic', () => {
  it('reads back the whole minutes an appointment was given', () => {
    fc.assert(fc.property(instant, duration, (startsAt, minutes) => expect(minutesBetween(startsAt, addMinutes(startsAt, minutes))).toBe(minutes)));
  });

  it('refuses a start at or before now with 422 starts_in_past, and takes any later one', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -10_000, max: 10_000 }), (now, offsetMs) => {
        const startsAt = new Date(t(now) + offsetMs);
        if (offsetMs > 0) {
          expect(() => assertFuture(startsAt, t(now))).not.toThrow();
          return;
        }
        let err: unknown;
        try {
          assertFuture(startsAt, t(now));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(RuleViolationError);
        expect((err as RuleViolationError).rule).toBe('starts_in_past');
      }),
    );
  });
});

describe('the overlap rule', () => {
  /** How the driver's refusal reaches us: wrapped by Prisma, the SQLSTATE and constraint inside. */
  const prismaWrapped = (originalCode: string, constraint?: string) =>
    Object.assign(new Error('Invalid `tx.appointment.create()` invocation'), {
      code: 'P2010',
      meta: { driverAdapterError: { cause: { originalCode, kind: 'postgres', ...(constraint && { constraint }) } } },
    });

  it('turns the exclusion-constraint refusal into the 409 slot_taken, keeping the cause', () => {
    for (const refusal of [prismaWrapped('23P01', 'appointments_no_overlap'), new Error('violates exclusion constraint "appointments_no_overlap"')]) {
      const mapped = overlapAsConflict(refusal);
      expect(mapped).toBeInstanceOf(ConflictError);
      const e = mapped as ConflictError;
      expect(e.code).toBe('conflict');
      expect(e.message).toBe('The professional already has an appointment overlapping that time (buffers included)');
      expect(e.details).toEqual({ reason: 'slot_taken' });
      expect(e.cause).toBe(refusal);
    }
  });

  it('passes every other error through as it is', () => {
    const others: unknown[] = [
      prismaWrapped('23505'),
      prismaWrapped('23503'),
      new RuleViolationError('outside_working_hours', 'The time is outside the professional\'s working hours'),
      new Error('Connection terminated'),
      'a string',
    ];
    for (const err of others) expect(overlapAsConflict(err)).toBe(err);
  });

  it('leaves a write that succeeds alone and maps only an overlap when it fails', async () => {
    await expect(refusingOverlap(async () => 42)).resolves.toBe(42);
    await expect(refusingOverlap(async () => Promise.reject(prismaWrapped('23P01', 'appointments_no_overlap')))).rejects.toBeInstanceOf(ConflictError);
    const other = new RuleViolationError('control_expired', 'The control expires before the new time');
    await expect(refusingOverlap(async () => Promise.reject(other))).rejects.toBe(other);
  });
});
