import { z } from 'zod';
import { TABLE } from './table';
import { none, Variable, type ConfigOf } from './variable';

/** Validated, typed configuration: computed from the table, so it has exactly the table's fields. */
export type Config = ConfigOf<typeof TABLE>;

/** The row with its field's path, so tools and tests find a variable's field without walking the table. */
export interface Row {
  path: readonly string[];
  variable: Variable<unknown>;
}

function rowsOf(node: object, path: readonly string[]): Row[] {
  return Object.entries(node).flatMap(([key, value]: [string, unknown]) =>
    value instanceof Variable ? [{ path: [...path, key], variable: value }] : rowsOf(value as object, [...path, key]),
  );
}

/** The table flattened, in declaration order, for whatever needs to walk every variable. */
export const VARIABLES: readonly Row[] = rowsOf(TABLE, []);

/**
 * The environment contract as one zod object keyed by variable name, so one pass reports every bad
 * variable at once, each issue under its name. Defaults are applied before it, not by it.
 */
export const envSchema = z.object(
  Object.fromEntries(VARIABLES.map(({ variable: v }) => [v.name, v.fallback === none ? v.schema.optional() : v.schema])),
);
