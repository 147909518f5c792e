import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is acting, as the audit trail records it (audit_events.actor_type / actor_id / request_id). */
export interface Actor {
  type: 'api_key' | 'admin' | 'job' | 'system';
  /** The API key's id, the job's name; null for the admin and the system. */
  id: string | null;
  /** The Lambda request id, or the BullMQ job id: what ties the record to a log line. */
  requestId: string | null;
}

const store = new AsyncLocalStorage<{ actor: Actor }>();

/**
 * Runs `fn` on behalf of `actor`: every transaction it opens names the actor to the database
 * (lib/platform/db/transaction.ts), where the audit triggers read it, and the reads it records name
 * it too. Held per async context, so concurrent invocations in one process never mix their actors.
 */
export function actingAs<T>(actor: Actor, fn: () => T): T {
  return store.run({ actor }, fn);
}

/** Names who the request turned out to be (authentication runs inside `actingAs`); keeps the request id. */
export function identifyActor(type: Actor['type'], id: string | null): void {
  const ctx = store.getStore();
  if (ctx) ctx.actor = { ...ctx.actor, type, id };
}

/** The actor of the current context; the system outside any. */
export function currentActor(): Actor {
  return store.getStore()?.actor ?? { type: 'system', id: null, requestId: null };
}
