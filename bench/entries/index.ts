import type { BenchEntry } from '../types';
import { availabilityCache } from './availability-cache';
import { bookingThroughput } from './booking-throughput';
import { connectionReuse } from './connection-reuse';
import { slotComputation } from './slot-computation';
import { queueEnqueue } from './queue-enqueue';
import { workerThroughput } from './worker-throughput';
import { bookingToWebhook } from './booking-to-webhook';
import { coldStart } from './cold-start';
import { bookingPooler } from './booking-pooler';
import { auditCost } from './audit-cost';

/** Every benchmark, in the order `npm run bench` runs them. Add new entries at the end. */
export const ENTRIES: readonly BenchEntry[] = [connectionReuse, slotComputation, availabilityCache, bookingThroughput, queueEnqueue, workerThroughput, bookingToWebhook, coldStart, bookingPooler, auditCost];
