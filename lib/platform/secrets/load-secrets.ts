import { ConfigError, provideSecrets } from '../config';
import { secretReferences, type SecretReference } from '../config/references';
import { logger } from '../observability/logger';

const DONE = Promise.resolve();
let loaded = false;
let loading: Promise<void> | undefined;

/**
 * Resolves every `aws-ssm:`/`aws-sm:` reference among the secret variables, once per container,
 * and hands the values to getConfig(); until then getConfig() refuses to parse. Every entry point
 * awaits it first (the base Lambda handler, the worker, scripts). Warm invocations get a settled
 * promise. A failure is not remembered: the next invocation tries again, so a throttled cold start
 * does not leave a container that can never serve. Without references it loads no AWS SDK at all.
 */
export function loadSecrets(): Promise<void> {
  if (loaded) return DONE;
  loading ??= resolveAll().then(
    () => {
      loaded = true;
    },
    (err: unknown) => {
      loading = undefined;
      logger.error('secrets.load_failed', { error: (err as Error).message });
      throw err;
    },
  );
  return loading;
}

async function resolveAll(): Promise<void> {
  const refs = secretReferences(process.env);
  if (refs.length === 0) return;
  const started = Date.now();
  const stores = await import('../aws/secret-stores');
  try {
    // One read per stored secret, however many variables pick keys of it.
    const reads = new Map<string, Promise<string>>();
    const read = ({ store, id }: SecretReference) => {
      const key = `${store}:${id}`;
      if (!reads.has(key)) reads.set(key, stores.readSecret(store, id));
      return reads.get(key)!;
    };
    const results = await Promise.allSettled(refs.map(async (ref) => [ref.variable, pick(ref, await read(ref))] as const));
    const issues = results.flatMap((r, i) => (r.status === 'rejected' ? [`${refs[i]!.variable}: ${refs[i]!.text} could not be read: ${reason(r.reason)}`] : []));
    if (issues.length > 0) throw new ConfigError(issues);
    provideSecrets(Object.fromEntries(results.map((r) => (r as PromiseFulfilledResult<readonly [string, string]>).value)));
    logger.info('secrets.loaded', { variables: refs.map((r) => r.variable), ms: Date.now() - started });
  } finally {
    stores.closeSecretStores();
  }
}

/** The whole value, or one key of a JSON secret. Its errors never quote the value. */
function pick(ref: SecretReference, value: string): string {
  let picked: unknown = value;
  if (ref.key !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      throw new Error(`the secret is not JSON, so #${ref.key} cannot be picked from it`);
    }
    picked = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[ref.key] : undefined;
    if (typeof picked === 'number') picked = String(picked);
    if (typeof picked !== 'string') throw new Error(`the secret has no string or number under "${ref.key}"`);
  }
  if (picked === '') throw new Error('the value is empty');
  return picked as string;
}

/** What went wrong, by the AWS error's name and message (which never carry a value). */
function reason(err: unknown): string {
  let e = err as Error & { cause?: unknown };
  while (e.cause instanceof Error && e.name === 'GetParameterError') e = e.cause as typeof e;
  const text = e.name === 'Error' || !e.name ? e.message : e.message && e.message !== 'UnknownError' ? `${e.name}: ${e.message}` : e.name;
  return text.slice(0, 300);
}
