import { isCluster, type RedisLink } from './link';

/**
 * `ready` alone is not enough: when the server closed the socket (idle timeout, CLIENT KILL,
 * failover, typically while the container was frozen) ioredis keeps status `ready` until it
 * processes the close, and without the offline queue every command fails at once. Such a client is
 * waited on (its reconnect emits `ready` again), like any other not-ready client. A cluster client
 * has no socket of its own: it routes each command to a server and refreshes its map of them
 * when one fails, so its status alone tells.
 */
export function isUsable(c: RedisLink): boolean {
  return c.status === 'ready' && (isCluster(c) || c.stream?.writable === true);
}

/** Resolves when the client is usable, rejects when it ends or after `timeoutMs`. */
export function waitReady(c: RedisLink, timeoutMs: number): Promise<void> {
  if (isUsable(c)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`not ready within ${timeoutMs} ms (status ${c.status})`)), timeoutMs);
    const onReady = () => finish();
    const onEnd = () => finish(new Error('connection ended'));
    function finish(err?: Error) {
      clearTimeout(timer);
      c.off('ready', onReady);
      c.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    }
    c.on('ready', onReady);
    c.on('end', onEnd);
  });
}
