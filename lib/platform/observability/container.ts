import { randomUUID } from 'node:crypto';

/**
 * Identity and life of this container (a warm Lambda execution environment or the worker process).
 * Module state survives warm invocations, which is exactly what the counters make visible.
 */
const containerId = randomUUID().slice(0, 8);
const startedAt = new Date();
let invocations = 0;

export interface InvocationInfo {
  containerId: string;
  /** True for the first invocation this container serves. */
  coldStart: boolean;
  /** 1-based count of invocations served by this container, this one included. */
  invocation: number;
}

/** Records the start of an invocation; call once per invocation. */
export function beginInvocation(): InvocationInfo {
  invocations += 1;
  return { containerId, coldStart: invocations === 1, invocation: invocations };
}

export function getContainerInfo() {
  return { containerId, startedAt: startedAt.toISOString(), invocations };
}

/**
 * The name this container gives its connections (PostgreSQL `application_name`, Redis `CLIENT
 * SETNAME`), so an operator can tell, on the servers, which container holds which connection.
 */
export function connectionName(service: string, profile: string): string {
  return `${service}-${profile}-${containerId}`;
}
