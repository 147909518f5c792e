/** A table an entry prints; cells are already formatted for people. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: string[][];
}

/** What one benchmark entry hands back to the runner: tables to print, raw figures for the JSON. */
export interface BenchResult {
  /** The knobs this run used (N, block size, profile...), so a result can be reproduced. */
  params: Record<string, string | number | boolean>;
  tables: BenchTable[];
  /** Unformatted figures, written to bench/results/latest.json. */
  data: Record<string, unknown>;
  /** Caveats found during the run (e.g. other clients on a shared server). */
  notes: string[];
}

/** One registered benchmark. Entries run one after another in one process (bench/entries/index.ts). */
export interface BenchEntry {
  name: string;
  /** One sentence: what is compared and why. */
  description: string;
  run(): Promise<BenchResult>;
}
