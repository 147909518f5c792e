import { commandsProcessed } from './cluster-global-setup';
import globalTeardown from './global-teardown';

/**
 * Checks that the pass really ran on the cluster (every master served key commands: each suite's
 * queues live in one slot of one master, rate counters and slot caches spread over all; the product
 * had no single server to turn to, env.ts points REDIS_URL at a closed port), stops it, then drops
 * the run's database (global-teardown.ts).
 */
export default async function clusterGlobalTeardown(): Promise<void> {
  const state = globalThis.agendaTestCluster;
  globalThis.agendaTestCluster = undefined;
  try {
    if (state) {
      const after = await commandsProcessed(state.cluster);
      const served = after.map((n, i) => n - state.commandsBefore[i]!);
      console.info(`cluster pass: key commands served per master: ${served.join(', ')}`);
      if (!served.every((n) => n > 0)) throw new Error(`The cluster pass left a master (almost) idle: ${served.join(', ')}; the suites did not use the cluster`);
    }
  } finally {
    await state?.cluster.remove();
    await globalTeardown();
  }
}
