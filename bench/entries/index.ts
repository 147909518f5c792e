import type { BenchEntry } from '../types';
import { connectionReuse } from './connection-reuse';

/** Every benchmark, in the order `npm run bench` runs them. Add new entries at the end. */
export const ENTRIES: readonly BenchEntry[] = [connectionReuse];
