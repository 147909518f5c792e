import { Logger } from '@aws-lambda-powertools/logger';
import { getContainerInfo } from './container';
import { redactText } from './redact';

/**
 * The one structured JSON logger. Powertools formats for CloudWatch and adds Lambda context
 * (cold start, request id) when a handler injects it. Log ids, never patient data: every string of
 * a line, an error's message and stack included (Powertools formats an Error into an object whose
 * fields pass here too), goes through the redaction step, so a library's error that quotes an
 * address (an SMTP 550) is written without it.
 */
export const logger = new Logger({
  serviceName: process.env.SERVICE_NAME ?? 'agenda',
  logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
  persistentKeys: {
    containerId: getContainerInfo().containerId,
    profile: process.env.AGENDA_PROFILE ?? 'api',
  },
  jsonReplacerFn: (_key: string, value: unknown) => (typeof value === 'string' ? redactText(value) : value),
});
