/**
 * The redaction step (lib/platform/observability/redact.ts) and its three sinks' wiring that needs
 * no server: the logger's output, the HTTP/WebSocket error description, a job's thrown error.
 * The SMTP case end to end (worker process, Redis, PostgreSQL) is test/integration/redaction.test.ts.
 */
import fc from 'fast-check';
import { Writable } from 'node:stream';
import { ConflictError, ValidationError } from '../../lib/platform/errors/app-error';
import { describeError } from '../../lib/platform/errors/describe';
import { EMAIL_MARK, PHONE_MARK, redactError, redactText, redactValue } from '../../lib/platform/observability/redact';
import { UnrecoverableError } from '../../lib/platform/queues/unrecoverable';

const SMTP_550 = "Can't send mail - all recipients were rejected: 550 5.1.1 <maria.silva@example.com>: Recipient address rejected";

describe('redactText', () => {
  it('removes the address from an SMTP rejection and keeps what happened', () => {
    expect(redactText(SMTP_550)).toBe(`Can't send mail - all recipients were rejected: 550 5.1.1 <${EMAIL_MARK}>: Recipient address rejected`);
  });

  it.each([
    '+55 11 91234-5678', '+5511912345678', '+55 (11) 91234-5678', '+1 (415) 555-0100', '+44 20 7946 0958',
    '(11) 91234-5678', '(21)3456-7890', '11 91234-5678', '11-3456-7890', '11 912345678',
    '91234-5678', '3456-7890', '1191234-5678', '11912345678', '1134567890', '5511912345678',
  ])('removes the phone number %s', (phone) => {
    expect(redactText(`call ${phone} now`)).toBe(`call ${PHONE_MARK} now`);
    expect(redactText(`tel:${phone}`)).not.toContain(phone);
  });

  it.each([
    'appointment 3f2b8c1e-9a4d-4e7f-8b6a-0c1d2e3f4a5b not found',
    'ids 00000000-0000-4000-8000-000000000001 and 12345678-1234-1234-1234-123456789012',
    'at 2026-12-05T07:50:43.123Z, took 1234 ms',
    'connect ECONNREFUSED 127.0.0.1:6379',
    'job repeat:outbox-relay:1733385043000 failed',
    '550 5.1.1 mailbox unavailable',
    'Sessions 3/10 until 2027-01-31',
  ])('leaves ids, times and codes alone: %s', (text) => {
    expect(redactText(text)).toBe(text);
  });

  it('removes any e-mail address from any surrounding text', () => {
    fc.assert(
      fc.property(fc.string(), fc.emailAddress(), fc.string(), fc.constantFrom(' ', '<', '(', '"', ': '), (before, email, after, open) => {
        const out = redactText(`${before}${open}${email} ${after}`);
        expect(out).not.toContain(email);
        expect(out).toContain(EMAIL_MARK);
      }),
      { numRuns: 500 },
    );
  });

  it('removes any Brazilian mobile number, however it is written', () => {
    const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
    fc.assert(
      fc.property(
        fc.integer({ min: 11, max: 99 }).filter((ddd) => ddd % 10 !== 0),
        digits(4),
        digits(4),
        fc.constantFrom('+55 {d} 9{a}-{b}', '+55{d}9{a}{b}', '({d}) 9{a}-{b}', '{d} 9{a}-{b}', '9{a}-{b}', '{d}9{a}{b}', '55{d}9{a}{b}'),
        fc.string().map((s) => s.replace(/[\w+.()-]+$/, '')),
        (ddd, a, b, format, before) => {
          const phone = format.replace('{d}', String(ddd)).replace('{a}', a).replace('{b}', b);
          const out = redactText(`${before} ${phone}: unreachable`);
          expect(out).not.toContain(`${a}-${b}`);
          expect(out).not.toContain(`${a}${b}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('redactValue', () => {
  it('redacts every string in nested details and leaves other values', () => {
    expect(redactValue({ field: 'email', got: ['ana@example.org', 3, null], at: { phone: '(11) 3456-7890' } })).toEqual({
      field: 'email', got: [EMAIL_MARK, 3, null], at: { phone: PHONE_MARK },
    });
  });
});

describe('redactError', () => {
  it('redacts message and stack in place: same object, same class, same fields', () => {
    const err = Object.assign(new UnrecoverableError(`bounce from ana@example.org`), { retryAfterMs: 500 });
    const out = redactError(err);
    expect(out).toBe(err);
    expect(out).toBeInstanceOf(UnrecoverableError);
    expect(out.name).toBe('UnrecoverableError');
    expect(out.message).toBe(`bounce from ${EMAIL_MARK}`);
    expect(out.stack).toContain(`bounce from ${EMAIL_MARK}`);
    expect(out.stack).not.toContain('ana@example.org');
    expect((out as unknown as { retryAfterMs: number }).retryAfterMs).toBe(500);
  });

  it('redacts causes too, and turns a thrown string into an Error', () => {
    const err = new Error('send failed', { cause: new Error('550 <bob@example.com>') });
    redactError(err);
    expect((err.cause as Error).message).toBe(`550 <${EMAIL_MARK}>`);
    expect(redactError('to +55 11 91234-5678')).toMatchObject({ message: `to ${PHONE_MARK}` });
  });
});

describe('the sinks', () => {
  it('an error answered over HTTP or WebSocket carries no address, in its message or details', () => {
    expect(describeError(new ConflictError('maria.silva@example.com is taken'))).toMatchObject({ message: `${EMAIL_MARK} is taken` });
    expect(describeError(new ValidationError('Invalid body', [{ field: 'phone', problem: 'got 11 91234-5678' }]))).toMatchObject({
      details: [{ field: 'phone', problem: `got ${PHONE_MARK}` }],
    });
  });

  it('the logger writes no address: not in a field, not in a logged error', async () => {
    jest.resetModules();
    const { logger } = await import('../../lib/platform/observability/logger');
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const { Console } = await import('node:console');
    // Powertools writes through its own Console; point it at a sink for this test.
    Object.assign(logger as unknown as { console: Console }, { console: new Console({ stdout: sink, stderr: sink }) });
    logger.setLogLevel('INFO');
    logger.warn('job.failed', { error: SMTP_550, patient: { phone: '+55 11 91234-5678' } });
    logger.error('request.unhandled_error', new Error('no mailbox maria.silva@example.com'));
    const out = lines.join('');
    expect(lines).toHaveLength(2);
    expect(out).not.toContain('maria.silva');
    expect(out).not.toContain('91234-5678');
    expect(out).toContain('550 5.1.1');
    expect(out).toContain(EMAIL_MARK);
  });
});
