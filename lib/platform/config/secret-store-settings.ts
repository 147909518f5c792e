import { ConfigError } from './error';
import { TABLE } from './table';

export interface SecretStoreSettings {
  region: string;
  ssmEndpoint?: string;
  secretsManagerEndpoint?: string;
}

const { region, ssmEndpoint, secretsManagerEndpoint } = TABLE.aws;

/**
 * The few settings the secret loader needs, read from the same rows as getConfig() reads them, but
 * alone: the whole configuration cannot be parsed before the secrets it references are loaded.
 */
export function secretStoreSettings(env: NodeJS.ProcessEnv = process.env): SecretStoreSettings {
  const issues: string[] = [];
  const read = (row: typeof region | typeof ssmEndpoint): string | undefined => {
    const value = env[row.name] || row.defaultFor('api', {});
    if (value === undefined) return undefined;
    const parsed = row.schema.safeParse(value);
    if (!parsed.success) issues.push(`${row.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.success ? (parsed.data as string) : undefined;
  };
  const settings = { region: read(region) ?? '', ssmEndpoint: read(ssmEndpoint), secretsManagerEndpoint: read(secretsManagerEndpoint) };
  if (issues.length > 0) throw new ConfigError(issues);
  return settings;
}
