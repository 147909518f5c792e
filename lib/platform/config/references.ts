import { ConfigError } from './error';
import { VARIABLES } from './schema';
import type { RawEnv } from './variable';

/** Where a reference points: SSM Parameter Store (SecureString) or Secrets Manager. */
export type SecretStore = 'ssm' | 'sm';

/** A secret variable's value that names where the secret lives instead of holding it. */
export interface SecretReference {
  variable: string;
  store: SecretStore;
  /** Parameter name or ARN (ssm); secret id or ARN (sm). */
  id: string;
  /** sm only: the key of a JSON secret whose value is taken (an RDS-managed secret's `password`). */
  key?: string;
  /** As written, for error messages: it names where, never what. */
  text: string;
}

const REFERENCE = /^aws-(ssm|sm):(.*)$/;

/** The variables that may hold a reference, from the table's `secret` marks. */
export const SECRET_VARIABLES: readonly string[] = VARIABLES.filter((r) => r.variable.secret).map((r) => r.variable.name);

export const isReference = (value: string | undefined): boolean => value !== undefined && REFERENCE.test(value);

/** The reference a value holds; throws a message naming the variable when it is malformed. */
export function parseReference(variable: string, value: string): SecretReference | undefined {
  const match = REFERENCE.exec(value);
  if (!match) return undefined;
  const store = match[1] as SecretStore;
  const [id = '', key, ...extra] = match[2]!.split('#');
  if (!id || extra.length > 0 || key === '' || (store === 'ssm' && key !== undefined)) {
    throw new Error(`${variable}: malformed secret reference ${value}: expected aws-ssm:<parameter name or ARN> or aws-sm:<secret id or ARN>[#<json key>]`);
  }
  return { variable, store, id, ...(key !== undefined ? { key } : {}), text: value };
}

/** Every reference among the secret variables of an environment; a malformed one fails them all, named. */
export function secretReferences(env: RawEnv): SecretReference[] {
  const refs: SecretReference[] = [];
  const issues: string[] = [];
  for (const name of SECRET_VARIABLES) {
    try {
      const ref = env[name] ? parseReference(name, env[name]) : undefined;
      if (ref) refs.push(ref);
    } catch (err) {
      issues.push((err as Error).message);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return refs;
}

/**
 * What keeps an environment from being parsed: a secret reference still unresolved (the process
 * skipped loadSecrets()), or a reference in a variable that is not a secret, which nothing resolves.
 * Checked before the schemas, which would only say "expected a URL".
 */
export function referenceIssues(env: RawEnv): string[] {
  return Object.entries(env).flatMap(([name, value]) => {
    if (!isReference(value)) return [];
    if (!SECRET_VARIABLES.includes(name)) {
      return VARIABLES.some((r) => r.variable.name === name)
        ? [`${name}: not a secret variable, so its aws-ssm:/aws-sm: reference is never resolved (secrets: ${SECRET_VARIABLES.join(', ')})`]
        : [];
    }
    return [`${name}: secret reference not loaded: call loadSecrets() at start-up`];
  });
}
