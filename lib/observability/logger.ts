import { Logger } from '@aws-lambda-powertools/logger';
import { getContainerInfo } from './container';

/**
 * The one structured JSON logger. Powertools formats for CloudWatch and adds Lambda context
 * (cold start, request id) when a handler injects it. Log ids, never patient data.
 */
export const logger = new Logger({
  serviceName: process.env.SERVICE_NAME ?? 'agenda',
  logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
  persistentKeys: {
    containerId: getContainerInfo().containerId,
    profile: process.env.AGENDA_PROFILE ?? 'api',
  },
});
