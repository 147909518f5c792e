import type { JobContext } from '../../platform/queues/context';
import { relayOutbox } from '../outbox/relay';

/** `outbox.relay`: one relay pass (scheduled by worker/schedulers.ts). */
export async function processOutboxRelay(_job: JobContext<'agenda', 'outbox.relay'>) {
  return relayOutbox();
}
