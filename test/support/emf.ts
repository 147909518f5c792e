/** An Embedded Metric Format line as CloudWatch Logs reads it. */
export interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/**
 * Runs `fn` with process.stdout captured and returns the EMF lines it wrote (JSON lines with an
 * `_aws` member); everything else written meanwhile is passed through.
 */
export async function captureEmf(fn: () => unknown): Promise<EmfLine[]> {
  const lines: EmfLine[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const parsed = (() => {
        try {
          return JSON.parse(line) as EmfLine;
        } catch {
          return undefined;
        }
      })();
      if (parsed?._aws) lines.push(parsed);
      else write(`${line}\n`);
    }
    return true;
  }) as typeof process.stdout.write);
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines;
}
