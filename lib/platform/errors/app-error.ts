/**
 * Typed errors. Services throw these; lib/http/errors.ts is the one place that maps them to HTTP.
 * `code` is stable English for machines; `message` is for people.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  readonly details?: unknown;
  /** Seconds a client should wait before retrying, when this error says when a retry can work. */
  readonly retryAfter?: number;

  constructor(message: string, details?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The request itself is wrong: bad JSON, a field with a wrong type, a value out of range. */
export class ValidationError extends AppError {
  readonly code = 'validation_failed';
}

export class UnauthorizedError extends AppError {
  readonly code = 'unauthorized';
}

/**
 * The API key is valid but lacks a scope the request needs (403). `details.requiredScope` names it
 * (a list when a mint asks for several the key does not hold).
 */
export class InsufficientScopeError extends AppError {
  readonly code = 'insufficient_scope';

  constructor(readonly requiredScope: string | string[], message = `This API key lacks the ${[requiredScope].flat().join(', ')} scope`) {
    super(message, { requiredScope });
  }
}

export class NotFoundError extends AppError {
  readonly code = 'not_found';
}

export class ConflictError extends AppError {
  readonly code = 'conflict';
}

/**
 * The request is well-formed but a business rule refuses it (outside working hours, a session
 * package exhausted or expired, a transition the appointment's state does not allow). `details.rule`
 * names the rule in stable English.
 */
export class RuleViolationError extends AppError {
  readonly code = 'rule_violated';

  constructor(readonly rule: string, message: string, details?: Record<string, unknown>) {
    super(message, { rule, ...details });
  }
}

/**
 * A dependency (PostgreSQL, Redis, a queue) cannot serve now. Retrying later may work; the caller
 * gets a 503 naming the dependency instead of waiting for API Gateway's 29 s timeout.
 */
export class DependencyUnavailableError extends AppError {
  readonly code = 'dependency_unavailable';
  override readonly retryAfter = 5;

  constructor(
    readonly dependency: 'database' | 'redis' | 'queue' | 'lambda',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, { dependency }, options);
  }
}

/** Work ran past its bound (a statement timeout): retrying the same thing at once will not help. */
export class TimeoutError extends AppError {
  readonly code = 'timeout';
}

/** The request body is larger than BODY_MAX_BYTES: refused before it is parsed. */
export class PayloadTooLargeError extends AppError {
  readonly code = 'payload_too_large';
}

/** A request body was sent with a content type other than JSON. */
export class UnsupportedMediaTypeError extends AppError {
  readonly code = 'unsupported_media_type';
}

/**
 * An `Idempotency-Key` already used for another request (another body, method or path) by the
 * same clinic within its retention window. The client must pick a new key.
 */
export class IdempotencyKeyReusedError extends AppError {
  readonly code = 'idempotency_key_reused';
}

/** The first request with this `Idempotency-Key` is still running; retry after a second. */
export class IdempotencyInProgressError extends AppError {
  readonly code = 'idempotency_in_progress';
  override readonly retryAfter = 1;
}

/** The caller's API key spent its request budget for the current window. */
export class RateLimitedError extends AppError {
  readonly code = 'rate_limited';
  override readonly retryAfter: number;

  constructor(message: string, retryAfterSeconds: number, details?: unknown) {
    super(message, details);
    this.retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}
