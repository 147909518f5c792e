import { scanRenewals } from '../../domain/session-packages/renewal-scan';
import type { JobContext } from '../../platform/queues/context';

/**
 * `renewals.scan` (worker scheduler, hourly): the renewal pass over the clinics whose local hour is
 * the job's; a retry or a late run works as of the slot it was scheduled for, not the current hour.
 */
export const processRenewalsScan = (job: JobContext<'renovacao', 'renewals.scan'>) =>
  scanRenewals({ localHour: job.data.localHour, ...(job.scheduledAt !== undefined && { now: new Date(job.scheduledAt) }) });
