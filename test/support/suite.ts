import { Client } from 'pg';
import { TEST_DIRECT_DATABASE_URL } from '../setup/test-env';

type Loaders = Record<string, () => Promise<unknown>>;
type Loaded<M extends Loaders> = { [K in keyof M]: Awaited<ReturnType<M[K]>> };

export interface SuiteOptions<M extends Loaders> {
  /** Variables set before the modules load (the container's environment), restored after the suite. */
  env?: Record<string, string | undefined>;
  /** The product modules the suite uses, loaded once in a fresh module registry: `{ db: () => import('...') }`. */
  modules?: M;
  /** A direct client (never through a pooler) to arrange and inspect rows; ended after the suite. */
  pg?: boolean;
  /** Empty this suite's queues when it ends (its queue prefix is its own, see test/setup/env.ts). */
  obliterateQueues?: boolean;
}

export interface Suite<M extends Loaders> {
  /**
   * The modules, each a live view of its latest load: destructure them at the top of the file and
   * use them inside tests and hooks (after the suite's beforeAll; after `reload()` they see the new load).
   */
  readonly m: Loaded<M>;
  readonly pg: Client;
  /** Loads the modules again in a new registry: a new simulated Lambda container under the current env. */
  reload(): Promise<Loaded<M>>;
}

/**
 * Gives a test file its product modules, database client and cleanup in one call, registered with
 * beforeAll/afterAll: a fresh module registry (so the file's singletons are its own, like a new
 * Lambda container), then, after the last test, its queues emptied, every connection the product
 * opened closed (closeAll of that same registry) and the client ended. Without it each file repeated
 * the same set-up and could leak a connection that kept Jest from exiting.
 */
export function useSuite<M extends Loaders = Record<never, never>>(options: SuiteOptions<M> = {}): Suite<M> {
  const saved: Record<string, string | undefined> = {};
  let loaded: Loaded<M> | undefined;
  let pg: Client | undefined;
  let closeAll: (() => Promise<void>) | undefined;
  let queues: typeof import('../../lib/platform/queues/queues') | undefined;

  const load = async (): Promise<Loaded<M>> => {
    if (closeAll) await closeAll();
    jest.resetModules();
    const out = {} as Loaded<M>;
    for (const [name, loader] of Object.entries(options.modules ?? {})) (out as Record<string, unknown>)[name] = await loader();
    closeAll = (await import('../../lib/platform/lifecycle/close-all')).closeAll;
    queues = options.obliterateQueues ? await import('../../lib/platform/queues/queues') : undefined;
    loaded = out;
    return out;
  };

  beforeAll(async () => {
    for (const [k, v] of Object.entries(options.env ?? {})) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await load();
    if (options.pg) {
      pg = new Client({ connectionString: TEST_DIRECT_DATABASE_URL, application_name: 'agenda-test' });
      await pg.connect();
    }
  });

  afterAll(async () => {
    if (queues) {
      const { QUEUE_NAMES } = await import('../../lib/platform/config/queue-names');
      for (const name of QUEUE_NAMES) await (await queues.getQueueByName(name)).obliterate({ force: true }).catch(() => undefined);
    }
    await closeAll?.();
    await pg?.end();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const view = (name: string) => {
    const mod = () => {
      const current = (loaded as Record<string, object> | undefined)?.[name];
      if (!current) throw new Error(`useSuite: module "${name}" is read inside tests or hooks, after beforeAll`);
      return current;
    };
    return new Proxy({} as object, {
      get: (_, prop) => Reflect.get(mod(), prop),
      has: (_, prop) => Reflect.has(mod(), prop),
      ownKeys: () => Reflect.ownKeys(mod()),
      getOwnPropertyDescriptor: (_, prop) => {
        const d = Reflect.getOwnPropertyDescriptor(mod(), prop);
        return d && { ...d, configurable: true };
      },
    });
  };
  const views = Object.fromEntries(Object.keys(options.modules ?? {}).map((name) => [name, view(name)])) as Loaded<M>;

  return {
    m: views,
    get pg() {
      if (!pg) throw new Error('useSuite: pass { pg: true } for a database client');
      return pg;
    },
    reload: load,
  };
}
