import type { z } from 'zod';
import { CROSS_CHECKS } from './checks';
import { ConfigError } from './error';
import { isDevelopmentStage, PRODUCTION_RULES } from './production';
import { referenceIssues } from './references';
import { envSchema, VARIABLES, type Config } from './schema';
import { REMOVED_ENV, TABLE } from './table';
import { PROFILES, Variable, type Profile, type RawEnv } from './variable';

const follows = (variable: Variable<unknown>) => typeof variable.fallback === 'function';
/** Derived defaults last: they read the others, defaults included. */
const RESOLUTION_ORDER = [...VARIABLES].sort((a, b) => Number(follows(a.variable)) - Number(follows(b.variable)));
const FOLLOWERS = new Set(VARIABLES.filter((r) => follows(r.variable)).map((r) => r.variable.name));

/**
 * Parses an environment into a Config. Pure, so tests can try any environment. Outside the
 * development stages it also refuses what is safe only on a laptop (production.ts).
 */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const raw = definedOnly(env);
  const unresolved = referenceIssues(raw);
  if (unresolved.length > 0) throw new ConfigError(unresolved);
  const resolved = withDefaults(raw, readProfile(env));
  const issues = Object.entries(REMOVED_ENV)
    .filter(([name]) => name in raw)
    .map(([name, why]) => `${name}: ${why}`);
  const parsed = envSchema.safeParse(resolved);
  if (!parsed.success) issues.push(...issuesOf(parsed.error, raw));
  if (parsed.success && issues.length === 0) {
    const config = fill(TABLE, parsed.data) as Config;
    issues.push(...CROSS_CHECKS.flatMap((check) => check(config) ?? []));
    if (!isDevelopmentStage(config.stage)) issues.push(...PRODUCTION_RULES.flatMap((rule) => rule(config)));
    if (issues.length === 0) return config;
  }
  throw new ConfigError(issues);
}

/** Set but empty counts as unset, as for a variable a deployment template leaves blank. */
function definedOnly(env: NodeJS.ProcessEnv): RawEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/**
 * The profile picks every other default, so it is read, alone, first (its own default is one for
 * all). Set but empty is refused, not taken as unset: a worker deployed with a blank profile must
 * not start with the functions' fail-fast defaults.
 */
function readProfile(env: NodeJS.ProcessEnv): Profile {
  const row = TABLE.profile;
  const result = row.schema.safeParse(env[row.name] ?? row.defaultFor(PROFILES[0], {}));
  if (!result.success) throw new ConfigError([`${row.name}: expected one of ${PROFILES.join(', ')}`]);
  return result.data as Profile;
}

function withDefaults(raw: RawEnv, profile: Profile): RawEnv {
  const resolved: Record<string, string | undefined> = {};
  for (const { variable: v } of RESOLUTION_ORDER) resolved[v.name] = raw[v.name] ?? v.defaultFor(profile, resolved);
  return resolved;
}

/**
 * One line per bad variable, named. An unset variable whose default follows another repeats that
 * one's issue (DIRECT_DATABASE_URL after a bad DATABASE_URL), so it is left out: the operator is told
 * about what they set.
 */
function issuesOf(error: z.ZodError, raw: RawEnv): string[] {
  const all = error.issues.map((i) => ({ name: String(i.path[0]), text: `${i.path.join('.')}: ${i.message}` }));
  const own = all.filter((i) => i.name in raw || !FOLLOWERS.has(i.name));
  return (own.length > 0 ? own : all).map((i) => i.text);
}

/** The table with each row replaced by its parsed value: Config has the table's shape. */
function fill(node: object, values: Readonly<Record<string, unknown>>): unknown {
  if (node instanceof Variable) return values[node.name];
  return Object.fromEntries(Object.entries(node).map(([key, child]: [string, object]) => [key, fill(child, values)]));
}
