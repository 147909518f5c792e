import { logger } from '../../platform/observability/logger';
import type { PushTarget } from '../realtime/connections';
import { deliverInApp, type InAppOutcome } from './in-app-delivery';

/** Most notices a new subscriber is sent at once (oldest first); the rest wait for the next event or subscribe. */
export const IN_APP_BACKLOG_LIMIT = 50;
/** No new notice is claimed for a subscriber after this long, well inside the function's 28 s timeout. */
const BACKLOG_BUDGET_MS = 10_000;

/**
 * A socket just subscribed: sends it the clinic's notices nobody received yet that match its scope
 * (the whole clinic, or one professional's), oldest first, at most {@link IN_APP_BACKLOG_LIMIT},
 * none older than the maximum age (the socket sweep marks those expired) nor no longer true (marked
 * skipped). Without this a notice made while nobody listened would wait for the next event of its
 * appointment, which may never come.
 */
export async function deliverBacklog(
  connection: PushTarget & { clinicId: string; scope: string },
  now = new Date(),
): Promise<InAppOutcome> {
  const outcome = await deliverInApp(
    { clinicId: connection.clinicId, ...(connection.scope !== 'clinic' && { professionalId: connection.scope }) },
    async () => [connection],
    { limit: IN_APP_BACKLOG_LIMIT, stopOnFailure: true, budgetMs: BACKLOG_BUDGET_MS },
    now,
  );
  if (outcome.sent + outcome.failed + outcome.stale > 0) {
    logger.info('notifications.in_app_backlog', { connectionId: connection.connectionId, clinicId: connection.clinicId, ...outcome });
  }
  return outcome;
}
