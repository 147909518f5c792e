import type { BenchEntry } from '../types';
import { availabilityCache } from './availability-cache';
import { bookingThroughput } from './booking-throughput';
import { connectionReuse } from './connection-reuse';
import { slotComputation } from './slot-computation';

/** Every benchmark, in the order `npm run bench` runs them. Add new entries at the end. */
export const ENTRIES: readonly BenchEntry[] = [connectionReuse, slotComputation, availabilityCache, bookingThroughput];
