import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SecretStore } from '../config/references';
import { secretStoreSettings } from '../config/secret-store-settings';

interface Stores {
  ssm: SSMProvider;
  sm: SecretsProvider;
  clients: [SSMClient, SecretsManagerClient];
}

let stores: Stores | undefined;

/**
 * The container's one SSM and one Secrets Manager client, behind Powertools' providers. Loaded
 * (with the SDK) only by a process whose environment holds a reference. Three attempts: the SDK's
 * standard retry backs off and retries throttling, 5xx and network errors. Bounded timeouts, so a
 * cold start never waits out API Gateway's 29 s. SSM_ENDPOINT and SECRETS_MANAGER_ENDPOINT point
 * them at a local stand-in.
 */
function getStores(): Stores {
  if (!stores) {
    const settings = secretStoreSettings();
    const common = { region: settings.region, maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } };
    const ssmClient = new SSMClient({ ...common, ...(settings.ssmEndpoint ? { endpoint: settings.ssmEndpoint } : {}) });
    const smClient = new SecretsManagerClient({
      ...common,
      ...(settings.secretsManagerEndpoint ? { endpoint: settings.secretsManagerEndpoint } : {}),
    });
    stores = {
      ssm: new SSMProvider({ awsSdkV3Client: ssmClient }),
      sm: new SecretsProvider({ awsSdkV3Client: smClient }),
      clients: [ssmClient, smClient],
    };
  }
  return stores;
}

/**
 * One stored secret as a string: an SSM parameter decrypted (SecureString), or a Secrets Manager
 * secret's string. Not cached here (maxAge 0): the loader keeps what it read for the container.
 */
export async function readSecret(store: SecretStore, id: string): Promise<string> {
  const { ssm, sm } = getStores();
  const value = store === 'ssm' ? await ssm.get(id, { decrypt: true, maxAge: 0 }) : await sm.get(id, { maxAge: 0 });
  if (typeof value !== 'string') throw new Error(store === 'sm' ? 'the secret is binary, not a string' : 'the parameter has no value');
  return value;
}

/** Destroys both clients' sockets once the secrets are loaded: a container reads them only once. */
export function closeSecretStores(): void {
  for (const client of stores?.clients ?? []) client.destroy();
  stores = undefined;
}
