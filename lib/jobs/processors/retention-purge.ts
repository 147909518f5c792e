import { purgeExpired, type RuleOutcome } from '../../domain/retention/purge';
import { logger } from '../../platform/observability/logger';
import { trimJobHistory, type HistoryTrim } from '../../platform/queues/trim-history';

/**
 * `retention.purge` (worker scheduler, every RETENTION_PURGE_EVERY_MS): deletes or strips, in
 * bounded batches, what each clinic keeps no longer (lib/domain/retention), then trims finished jobs
 * past their queue's age from Redis. One log line with the counts; `more` says a rule hit its bound
 * and the next run carries on.
 */
export async function processRetentionPurge(
  options: Parameters<typeof purgeExpired>[0] = {},
): Promise<{ rules: Record<string, RuleOutcome>; jobs: HistoryTrim }> {
  const rules = await purgeExpired(options);
  const jobs = await trimJobHistory();
  const rows = Object.fromEntries(Object.entries(rules).map(([name, r]) => [name, r.rows]));
  const more = Object.entries(rules).filter(([, r]) => r.more).map(([name]) => name);
  logger.info('retention.purged', { rows, jobs, more });
  return { rules, jobs };
}
