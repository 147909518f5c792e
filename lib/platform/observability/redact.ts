/*
 * The one redaction step for error text bound for a log line, a job's failure reason (BullMQ keeps
 * `failedReason` and the stack in Redis) or a response body. E-mail addresses and phone numbers are
 * recognised by pattern; names cannot be, so no message is ever built from a patient's name.
 * Ids (UUIDs), ISO timestamps, ports and SMTP status codes (`550 5.1.1`) are left alone.
 */

/** Replaces an e-mail address. */
export const EMAIL_MARK = '[email]';
/** Replaces a phone number. */
export const PHONE_MARK = '[phone]';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
/** RFC 5322 dot-atom local part at a domain with at least one dot. */
const EMAIL = new RegExp(`[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]+@${LABEL}(?:\\.${LABEL})+`, 'g');

/** No digit, letter or id punctuation right before or after: a piece of a UUID or a longer number is no phone. */
const BEFORE = String.raw`(?<![\w.+-])`;
const AFTER = String.raw`(?![\w-])`;
const PHONES = [
  // E.164 and international forms: +55 11 91234-5678, +5511912345678, +1 (415) 555-0100.
  String.raw`\+\d(?:[ .-]?\(?\d\)?){7,14}(?!\d)`,
  // Brazilian area code in parentheses: (11) 91234-5678, (11)3456 7890.
  String.raw`\(\d{2}\)\s?9?\d{4}[ .-]?\d{4}(?!\d)`,
  // Area code and a separator: 11 91234-5678, 11-3456-7890, 11 912345678.
  String.raw`${BEFORE}\d{2}[ .-]9?\d{4}[ .-]?\d{4}${AFTER}`,
  // Hyphenated local number, with or without the area code: 91234-5678, 3456-7890, 1191234-5678.
  String.raw`${BEFORE}(?:\d{2})?9?\d{4}-\d{4}${AFTER}`,
  // Bare digits: 11912345678, 1134567890, 5511912345678 (area codes never end in 0).
  String.raw`${BEFORE}(?:55)?[1-9]{2}(?:9\d{8}|[2-5]\d{7})(?![\w.-])`,
];
const PHONE = new RegExp(PHONES.join('|'), 'g');

/** Text with every e-mail address and phone number replaced by a mark. */
export function redactText(text: string): string {
  let out = text.includes('@') ? text.replace(EMAIL, EMAIL_MARK) : text;
  if (/\d{4}/.test(out)) out = out.replace(PHONE, PHONE_MARK);
  return out;
}

/** Every string inside a JSON-like value redacted (error details); other values as they are. */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactValue(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)])) as T;
  }
  return value;
}

/**
 * The thrown value as an Error whose message and stack (and its causes') are redacted, in place:
 * the same object, so its class and fields (UnrecoverableError's name, a retry hint) are kept.
 * Anything not an Error becomes an Error with the redacted text.
 */
export function redactError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(redactText(String(err)));
  const seen = new Set<Error>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const stack = e.stack; // read first: V8 builds it lazily from the message
    e.message = redactText(e.message);
    if (stack !== undefined) e.stack = redactText(stack);
  }
  return err;
}
