import type { z } from 'zod';
import { ValidationError } from '../errors/app-error';

/** One problem with the input, named by its JSON path. */
export interface FieldProblem {
  field: string;
  problem: string;
}

/** Validates any input against a schema; a failure names each field and what is wrong with it. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details: FieldProblem[] = result.error.issues.map((i) => ({
    field: i.path.length > 0 ? i.path.join('.') : what,
    problem: i.message,
  }));
  throw new ValidationError(`Invalid ${what}`, details);
}
