import type { BenchTable } from '../types';
import type { MachineInfo } from './machine';

/** A GitHub-flavoured markdown table; numeric-looking columns are right-aligned. */
export function markdownTable(table: BenchTable): string {
  const numeric = table.columns.map((_, i) => table.rows.every((r) => /^[\d.,x -]*$/.test(r[i] ?? '')));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(table.columns),
    line(table.columns.map((_, i) => (numeric[i] ? '---:' : '---'))),
    ...table.rows.map(line),
  ].join('\n');
}

export function machineMarkdown(m: MachineInfo): string {
  return [
    `Machine: ${m.cpuModel}, ${m.logicalCores} logical cores (${m.availableParallelism} available to Node), ` +
      `${m.memoryGiB} GiB RAM; ${m.os} ${m.arch}; Node ${m.node}; PostgreSQL ${m.postgres}; Redis ${m.redis}.`,
  ].join('\n');
}
