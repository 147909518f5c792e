import type { HealthReport } from './check';

/** What in an error text says where things are: URLs, addresses with or without ports, host names. */
const WHERE: readonly [RegExp, string][] = [
  [/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>'],
  [/\[[0-9a-f:.]+\](?::\d+)?/gi, '<address>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<address>'],
  [/(?:\b[0-9a-f]{0,4})?(?::[0-9a-f]{0,4}){2,}(?::\d+)?/gi, '<address>'],
  [/\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?\b/gi, '<host>'],
  [/\blocalhost(?::\d+)?\b/gi, '<host>'],
];

/** An error text with hosts, addresses and URLs replaced by placeholders; the rest (codes, timeouts) kept. */
export function redactLocations(text: string): string {
  return WHERE.reduce((out, [pattern, placeholder]) => out.replace(pattern, placeholder), text);
}

/** The report with every check's raw error text passed through {@link redactLocations}. */
export function withRedactedErrors<R extends Pick<HealthReport, 'checks'>>(report: R): R {
  const checks = Object.fromEntries(
    Object.entries(report.checks).map(([name, check]) => [name, check?.error ? { ...check, error: redactLocations(check.error) } : check]),
  );
  return { ...report, checks };
}
