import { parseConfig } from './parse';
import type { Config } from './schema';

export { ConfigError } from './error';
export { parseConfig } from './parse';
export type { Config } from './schema';
export type { Profile } from './variable';

let cached: Config | undefined;
let resolved: Readonly<Record<string, string>> = {};

/**
 * The process's configuration, read and validated once on first use: a Lambda container keeps it
 * across warm invocations, and an invalid environment fails the first one with every issue named.
 * Secret references in the environment read as their values once loadSecrets() has resolved them
 * (kept here, never written back into process.env, which child processes would inherit).
 */
export function getConfig(): Config {
  cached ??= parseConfig({ ...process.env, ...resolved });
  return cached;
}

/**
 * Takes the values lib/platform/secrets resolved for the references of this environment; the
 * next getConfig() parses with them. Only the secret loader calls this.
 */
export function provideSecrets(values: Readonly<Record<string, string>>): void {
  resolved = { ...resolved, ...values };
  cached = undefined;
}
