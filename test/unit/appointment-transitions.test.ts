import fc from 'fast-check';
import { APPOINTMENT_STATUSES, type AppointmentStatus } from '../../lib/domain/appointments/schemas';
import { assertReschedulable, assertTransition, canTransition, TRANSITIONS } from '../../lib/domain/appointments/transitions';
import { RuleViolationError } from '../../lib/platform/errors/app-error';

/**
 * The appointment state machine, written out here independently of lib/: scheduled -> confirmed ->
 * completed / no-show, cancelled from either open state, and nothing out of an outcome.
 */
const ALLOWED: ReadonlyArray<[AppointmentStatus, AppointmentStatus]> = [
  ['scheduled', 'confirmed'],
  ['scheduled', 'cancelled'],
  ['scheduled', 'completed'],
  ['scheduled', 'no_show'],
  ['confirmed', 'cancelled'],
  ['confirmed', 'completed'],
  ['confirmed', 'no_show'],
];
const TERMINAL: AppointmentStatus[] = ['completed', 'no_show', 'cancelled'];
const OPEN: AppointmentStatus[] = ['scheduled', 'confirmed'];

const status = fc.constantFrom(...APPOINTMENT_STATUSES);
const allowed = (from: string, to: string) => ALLOWED.some(([f, t]) => f === from && t === to);

/** The error a refused call threw, or undefined when it did not throw. */
function thrown(fn: () => void): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('appointment transitions', () => {
  it('allows exactly the listed status changes, every pair checked', () => {
    const pairs = APPOINTMENT_STATUSES.flatMap((from) => APPOINTMENT_STATUSES.map((to) => [from, to] as const));
    expect(pairs.filter(([from, to]) => canTransition(from, to))).toEqual(
      pairs.filter(([from, to]) => allowed(from, to)),
    );
  });

  it('has a row for every status and no exits from completed, no_show or cancelled', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...APPOINTMENT_STATUSES].sort());
    for (const from of TERMINAL) {
      expect(TRANSITIONS[from]).toEqual([]);
      for (const to of APPOINTMENT_STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('never goes back to scheduled and never stays put (a reschedule is not a transition)', () => {
    fc.assert(
      fc.property(status, status, (from, to) => {
        if (to === 'scheduled' || from === to) expect(canTransition(from, to)).toBe(false);
      }),
    );
  });

  it('any run of attempted changes takes at most two steps, and none out of an outcome', () => {
    fc.assert(
      fc.property(fc.array(status, { maxLength: 20 }), (attempts) => {
        let current: AppointmentStatus = 'scheduled';
        let applied = 0;
        for (const to of attempts) {
          const wasTerminal = TERMINAL.includes(current);
          if (!canTransition(current, to)) continue;
          expect(wasTerminal).toBe(false);
          current = to;
          applied += 1;
        }
        expect(applied).toBeLessThanOrEqual(2);
      }),
    );
  });

  it('refuses with 422 invalid_transition naming both states, and accepts what the table allows', () => {
    fc.assert(
      fc.property(status, status, (from, to) => {
        const err = thrown(() => assertTransition(from, to));
        if (allowed(from, to)) {
          expect(err).toBeUndefined();
          return;
        }
        expect(err).toBeInstanceOf(RuleViolationError);
        const e = err as RuleViolationError;
        expect(e.rule).toBe('invalid_transition');
        expect(e.message).toBe(`An appointment that is ${from} cannot become ${to}`);
        expect(e.details).toEqual({ rule: 'invalid_transition', from, to });
      }),
    );
  });

  it('refuses any change from a status it does not know', () => {
    // Names on Object.prototype ("toString", "__proto__") included: a stored string is never looked up as a property.
    const unknown = fc.oneof(fc.string(), fc.constantFrom('toString', '__proto__', 'constructor', 'hasOwnProperty')).filter((s) => !(APPOINTMENT_STATUSES as readonly string[]).includes(s));
    fc.assert(
      fc.property(unknown, status, (from, to) => {
        expect(canTransition(from, to)).toBe(false);
        expect(thrown(() => assertTransition(from, to))).toBeInstanceOf(RuleViolationError);
      }),
    );
  });
});

describe('rescheduling', () => {
  it('is allowed exactly while the appointment is open, the statuses that still have exits', () => {
    for (const from of APPOINTMENT_STATUSES) {
      const err = thrown(() => assertReschedulable(from));
      expect(err === undefined).toBe(OPEN.includes(from));
      expect(err === undefined).toBe(TRANSITIONS[from].length > 0);
    }
  });

  it('refuses an outcome with 422 invalid_transition towards scheduled', () => {
    for (const from of TERMINAL) {
      const err = thrown(() => assertReschedulable(from)) as RuleViolationError;
      expect(err).toBeInstanceOf(RuleViolationError);
      expect(err.message).toBe(`An appointment that is ${from} cannot be rescheduled`);
      expect(err.details).toEqual({ rule: 'invalid_transition', from, to: 'scheduled' });
    }
  });
});
