import { getDb } from '../../platform/db/client';
import { RETENTION_RULES, type RetentionRule } from './rules';

/** What one rule did in one run. */
export interface RuleOutcome {
  /** Rows deleted or stripped. */
  rows: number;
  /** Statements run (each its own short transaction, at most `batch` rows). */
  statements: number;
  /** The last statement filled its batch, or the bound stopped the rule: the next run goes on. */
  more: boolean;
}

/** Statements one rule may run per pass: with 1,000-row batches, at most 10,000 rows a rule a run. */
export const MAX_STATEMENTS_PER_RULE = 10;

/**
 * Applies every retention rule once: each statement deletes or strips at most its batch, in its own
 * transaction (no long lock, no huge transaction), and a rule stops at a short batch or at
 * `maxStatements`; what is left waits for the next run. Safe on several workers at once: rows are
 * picked with SKIP LOCKED, and a row already gone is simply not counted. `rules` and `batch` are
 * for tests (a small batch proves the bound).
 */
export async function purgeExpired(
  options: { rules?: RetentionRule[]; batch?: number; maxStatements?: number } = {},
): Promise<Record<string, RuleOutcome>> {
  const db = await getDb();
  const maxStatements = options.maxStatements ?? MAX_STATEMENTS_PER_RULE;
  const out: Record<string, RuleOutcome> = {};
  for (const rule of options.rules ?? RETENTION_RULES) {
    const batch = options.batch ?? rule.batch;
    const outcome: RuleOutcome = { rows: 0, statements: 0, more: false };
    while (outcome.statements < maxStatements) {
      const n =
        rule.counted === 'result'
          ? Number((await db.$queryRawUnsafe<{ n: number }[]>(rule.sql, batch))[0]?.n ?? 0)
          : await db.$executeRawUnsafe(rule.sql, batch);
      outcome.statements += 1;
      outcome.rows += n;
      outcome.more = n >= batch;
      if (!outcome.more) break;
    }
    out[rule.name] = outcome;
  }
  return out;
}
