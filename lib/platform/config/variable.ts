import type { z } from 'zod';
import { QUEUE_NAMES, type QueueName } from './queue-names';

/**
 * Connection profiles. Each deployable part runs under one, and a variable's default may depend on
 * it: API functions fail fast and keep a warm connection, socket functions open the database lazily
 * and never touch Redis, the worker container holds more connections and waits through faults.
 */
export const PROFILES = ['api', 'socket', 'worker'] as const;
export type Profile = (typeof PROFILES)[number];

/** Read-only, so resolving defaults never writes back into the process's environment. */
export type RawEnv = Readonly<Record<string, string | undefined>>;

/**
 * Defaults per profile. Socket functions share the API's unless they name their own, because both
 * are Lambda functions that must answer inside API Gateway's 29 s.
 */
export interface PerProfile<T> {
  api: T;
  socket?: T;
  worker: T;
}

/**
 * For a variable that, unset, means another one (DIRECT_DATABASE_URL) or is built from others: it
 * reads them as resolved, their own defaults included, so it cannot drift from them.
 */
export type Derived = (env: RawEnv) => string | undefined;

type Literal<T> = T extends string | number | boolean ? T : never;
/** Typed against the parser's output, so a default of the wrong kind fails to compile. */
export type Default<T> = Literal<T> | PerProfile<Literal<T>> | Derived;

/** A marker rather than `undefined`, so a row without a default says so instead of forgetting one. */
export const none: unique symbol = Symbol('none');

/**
 * One row of the table. The row carries its output type for the type system alone, so the Config
 * type is computed from the rows and cannot drift from what parsing returns.
 */
export class Variable<T> {
  declare readonly output: T;

  constructor(
    readonly name: string,
    readonly schema: z.ZodType,
    readonly fallback: Default<unknown> | typeof none,
    readonly doc: string,
    /** May hold an `aws-ssm:`/`aws-sm:` reference, resolved at start-up (lib/platform/secrets). */
    readonly secret = false,
  ) {}

  /** A string, as an environment would hold it: a default goes through the same parser as a set value. */
  defaultFor(profile: Profile, env: RawEnv): string | undefined {
    const d = this.fallback;
    if (d === none) return undefined;
    if (typeof d === 'function') return d(env);
    if (typeof d === 'object') return String(d[profile] ?? d.api);
    return String(d);
  }
}

/**
 * Positional, so each row of the table reads as one line: name, parser, default, doc. The row's key
 * in the table is its field in Config, so there is no second name to keep in step.
 */
export function env<S extends z.ZodType>(name: string, schema: S, fallback: typeof none, doc: string): Variable<z.output<S> | undefined>;
export function env<S extends z.ZodType>(name: string, schema: S, fallback: Default<z.output<S>>, doc: string): Variable<z.output<S>>;
export function env(name: string, schema: z.ZodType, fallback: Default<unknown> | typeof none, doc: string): Variable<unknown> {
  return new Variable(name, schema, fallback, doc);
}

/**
 * Marks a row as a secret: a deployment gives it as a reference to SSM Parameter Store or Secrets
 * Manager instead of a literal, and docs and checks list it. Listing a row here is all it takes.
 */
export function secret<T>(variable: Variable<T>): Variable<T> {
  return new Variable<T>(variable.name, variable.schema, variable.fallback, variable.doc, true);
}

/** One variable per queue (`<PREFIX>_<QUEUE>`), so adding a queue adds its settings. */
export function perQueue<T>(make: (queue: QueueName, suffix: string) => Variable<T>): Record<QueueName, Variable<T>> {
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, make(q, q.toUpperCase())])) as Record<QueueName, Variable<T>>;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<T> = { [K in keyof T]: T[K] extends Variable<infer O> ? (undefined extends O ? K : never) : never }[keyof T];

/**
 * Computed rather than written, so a row added to the table is a typed field at once and no field
 * exists without its row; a row without a default becomes an optional field.
 */
export type ConfigOf<T> =
  T extends Variable<infer O>
    ? O
    : Simplify<{ [K in Exclude<keyof T, OptionalKeys<T>>]: ConfigOf<T[K]> } & { [K in OptionalKeys<T>]?: ConfigOf<T[K]> }>;
