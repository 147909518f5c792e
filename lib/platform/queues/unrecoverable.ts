/**
 * Fails a job at once, whatever attempts it has left. BullMQ recognises it by name (its
 * `moveToFailed` tests `err.name == 'UnrecoverableError'`, as lib/jobs/outcome.ts does), so code
 * that only throws it, such as a webhook delivery, need not load BullMQ.
 */
export class UnrecoverableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnrecoverableError';
  }
}
